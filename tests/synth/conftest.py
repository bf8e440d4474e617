import sys
from pathlib import Path

# The shared test helpers (synth_fakes, ...) live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
