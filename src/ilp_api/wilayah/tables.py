from sqlmodel import Field, SQLModel


class WilayahRow(SQLModel, table=True):
    __tablename__ = "wilayah"

    code: str = Field(primary_key=True, max_length=10)
    name: str = Field(max_length=255)
