"""Configuration of :class:`~rankkd.trainers.pointwise_kd_trainer.PointwiseKDTrainer` (DeAR-P)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rankkd.trainers.base import RerankerConfig


@dataclass
class PointwiseKDConfig(RerankerConfig):
    """Pointwise knowledge distillation: ``alpha·T²·KL(teacher‖student) + (1−alpha)·ranking loss``.

    DeAR's first stage (Abdallah et al., EMNLP Findings 2025) distils a 13B RankLLaMA teacher into 3B/8B LLM students
    with a classification head and LoRA: temperature 2, alpha 0.1, 2 passages per query (the positive and a hard
    negative), query/passage max length 32/196, lr 1e-4, 2 epochs.

    The teacher's scores come from the dataset (``target="teacher_scores"``, precomputed) or from an online teacher
    (``teacher_model_name_or_path``), run without gradients inside every training step with its own dtype and batch
    size. The ranking component learns from the labelled positive (``ranking_target="labels"``: the group is sampled
    ``single_relevant``, positive first) or from the teacher's own order (``ranking_target="teacher"``).
    """

    alpha: float = field(default=0.1, metadata={"help": "Weight of the KL term; (1 - alpha) weighs the ranking loss."})
    temperature: float = field(default=2.0, metadata={"help": "Distillation temperature T (KL is scaled by T²)."})
    ranking_loss: str = field(default="ranknet", metadata={"help": "Ranking component: ranknet, bce, infonce, ..."})
    ranking_target: str = field(default="labels", metadata={"help": "labels | teacher"})
    teacher_model_name_or_path: str | None = field(
        default=None, metadata={"help": "Online teacher (sequence classifier); None: scores from the dataset."}
    )
    teacher_dtype: str = field(default="bfloat16", metadata={"help": "Teacher dtype: bfloat16 | float32 | auto."})
    teacher_batch_size: int = field(default=32, metadata={"help": "Pairs per teacher forward pass."})
    group_size: int = field(default=2, metadata={"help": "Passages per query (DeAR: 2)."})
    sampling: str = field(default="single_relevant", metadata={"help": "Group sampling strategy."})
    target: str = field(default="teacher_scores", metadata={"help": "Dataset column with teacher signal."})
    query_max_length: int = field(default=32, metadata={"help": "Query token budget."})
    passage_max_length: int = field(default=196, metadata={"help": "Passage token budget."})
    learning_rate: float = field(default=1e-4, metadata={"help": "AdamW learning rate."})
    num_train_epochs: float = field(default=2.0, metadata={"help": "Epochs."})

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.ranking_target not in {"labels", "teacher"}:
            raise ValueError(f"ranking_target must be 'labels' or 'teacher', got {self.ranking_target!r}")
        # The loss is fixed by alpha/temperature/ranking_loss: expose it through the shared fields for cards and logs.
        self.loss = f"kl_div+{self.ranking_loss}"
        self.loss_weights = [self.alpha, 1.0 - self.alpha]
        self.loss_kwargs = {"kl_div": {"temperature": self.temperature}}
        if self.teacher_model_name_or_path is not None:
            self.target = "none"  # targets come from the online teacher
        super().__post_init__()
