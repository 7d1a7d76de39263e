"""What a tenant sets when it enables the stamp card (validated by ``moduleEnable``)."""

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class StampCardSettings(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    minimum_amount: int = Field(
        1000, ge=0, description="The smallest purchase that earns a stamp, in minor units."
    )
    currency: str | None = Field(
        None, pattern="^[A-Z]{3}$", description="Only purchases in this currency count."
    )
    stamps_per_card: int = Field(10, ge=1, le=100, description="Stamps that fill a card.")
    reward_points: int = Field(100, ge=1, description="Points a full card earns.")
