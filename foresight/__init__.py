"""foresight: the Dagster-free core of the world-model planning pipeline.

Implements the three-stage recipe of "Internalizing the Future" (arXiv:2606.27483):
World Model Agentic Mid-Training (WM-AMT), Format-Eliciting SFT (FE-SFT) and
Foresight-Conditioned RL (FC-RL). Training processes launched by the Dagster assets
import this package only; nothing here imports Dagster.
"""

__version__ = "0.1.0"
