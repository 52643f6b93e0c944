"""Qt item models fed by tag batches from the bridge."""
