"""The image lifecycle: gallery versions and which pools use them (list), moving a pool onto a
version (roll), and deleting the versions beyond the newest N that no pool uses (prune).

``observe`` only reads. ``plan_roll``, ``recyclable``, ``plan_prune`` and ``edited_pool_file``
are pure and table-tested. ``roll`` and ``prune`` are the only code here that writes: one PATCH
of the scale set's image reference, one delete of idle agents' instances, image version deletes,
and (on request) pool.yaml's ``image.version`` line.

The package: ``model`` (versions, which pools use them), ``read`` (the facts), ``roll`` and
``poolfile`` (moving a pool, editing its file), ``prune``.
"""

from agentctl.images.model import (
    FAILED,
    SUCCEEDED,
    Confirm,
    ImageDefinition,
    Instances,
    Note,
    PoolImage,
    Use,
    Version,
    latest,
    same_id,
    split_reference,
    uses,
)
from agentctl.images.poolfile import PoolFileEdit, edited_pool_file, write_pool_file
from agentctl.images.prune import PruneItem, plan_prune, prune
from agentctl.images.read import WORKERS, list_images, load_pools, model_image, observe
from agentctl.images.roll import RollPlan, owned_elastic_pool, plan_roll, recyclable, roll

__all__ = [
    "FAILED",
    "SUCCEEDED",
    "WORKERS",
    "Confirm",
    "ImageDefinition",
    "Instances",
    "Note",
    "PoolFileEdit",
    "PoolImage",
    "PruneItem",
    "RollPlan",
    "Use",
    "Version",
    "edited_pool_file",
    "latest",
    "list_images",
    "load_pools",
    "model_image",
    "observe",
    "owned_elastic_pool",
    "plan_prune",
    "plan_roll",
    "prune",
    "recyclable",
    "roll",
    "same_id",
    "split_reference",
    "uses",
    "write_pool_file",
]
