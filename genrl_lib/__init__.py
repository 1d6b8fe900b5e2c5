"""genrl_lib: the shared library of the course book *Generative Models in Reinforcement Learning*.

The chapters teach; this package does. Importing it registers the book's gymnasium environments
(``genrl_lib/JumpChain-v0``). Heavy modules (torch-based agents, Sinergym buildings) are imported
only when you import them, so ``import genrl_lib`` stays fast.
"""

from genrl_lib import envs as _envs  # noqa: F401  (registers environments)
from genrl_lib.envs import make
from genrl_lib.evaluation import EvalResult, evaluate_policy
from genrl_lib.seeding import set_seed

__version__ = "0.1.0"
__all__ = ["make", "set_seed", "evaluate_policy", "EvalResult", "__version__"]
