from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, ManagedRecord
from gis.network.models import geography_index


class Customer(ManagedRecord, Base):
    """A supply point with its account. `transformer_id` is its 台区: the distribution transformer
    that feeds it, derived from topology on import and kept by the network service."""

    __tablename__ = "customers"
    __table_args__ = (geography_index("customers"),)

    account_number: Mapped[str] = mapped_column(String(60), unique=True)
    meter_number: Mapped[str] = mapped_column(String(60), default="", index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    category: Mapped[str] = mapped_column(String(40), default="residential")
    key_account: Mapped[bool] = mapped_column(Boolean, default=False)
    vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    guaranteed_supply: Mapped[bool] = mapped_column(Boolean, default=False)
    contracted_load_kw: Mapped[float] = mapped_column(Float, default=0.0)
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    subnet: Mapped[str | None] = mapped_column(String(100), index=True)
    node_id: Mapped[int | None] = mapped_column(ForeignKey("network_nodes.id"), index=True)
    transformer_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("transformers.id"), index=True)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
