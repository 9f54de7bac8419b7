"""Re-ranker trainers: one config dataclass + one Trainer subclass per method."""

from rankkd.trainers.base import RerankerConfig, RerankerTrainer
from rankkd.trainers.biencoder_trainer import BiEncoderListwiseConfig, BiEncoderListwiseTrainer
from rankkd.trainers.listwise_config import ListwiseConfig
from rankkd.trainers.listwise_trainer import ListwiseTrainer
from rankkd.trainers.pointwise_kd_config import PointwiseKDConfig
from rankkd.trainers.pointwise_kd_trainer import PointwiseKDTrainer

__all__ = [
    "BiEncoderListwiseConfig",
    "BiEncoderListwiseTrainer",
    "ListwiseConfig",
    "ListwiseTrainer",
    "PointwiseKDConfig",
    "PointwiseKDTrainer",
    "RerankerConfig",
    "RerankerTrainer",
]
