"""Ready-made problems: the PBT paper's toy problem and the digits demo."""
