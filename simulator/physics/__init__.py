"""Pure bench physics: solar (pvlib), clouds and climate, LiFePO4 battery, usage loads, one bench's model."""
