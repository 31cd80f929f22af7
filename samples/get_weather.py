#!/usr/bin/env python3
"""A stand-in weather tool: reads the call's arguments JSON on stdin (or as $1), prints JSON.

Used by samples/weather.sh and `--run-tool get_weather=samples/get_weather.py`.
"""

import json
import sys
import zlib

raw = sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read()
city = json.loads(raw or "{}").get("city", "nowhere")
seed = zlib.crc32(city.lower().encode())  # the same city always gets the same weather
print(json.dumps({"city": city, "temp_c": 8 + seed % 20, "sky": ["sunny", "cloudy", "rain"][seed % 3]}))
