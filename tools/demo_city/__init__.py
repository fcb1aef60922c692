"""The maker of the demo city's geography (``python -m tools.demo_city.make_demo_city``)."""
