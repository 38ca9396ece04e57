"""binance_ids.py: the former name of venue_holes.py (same arguments)."""
import os
import runpy
import sys

runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "venue_holes.py"), run_name="__main__")
