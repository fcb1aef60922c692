"""Places (地点): the demo city's geography, coordinate systems and place resolution."""
