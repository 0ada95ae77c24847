"""Run by the Soda Core venv's Python (not Guarantor's): verify one contract of N metric checks and
print the seconds and outcomes as JSON. Usage: soda_peer.py DATA_SOURCE.yml CONTRACT.yml"""

import json
import os
import sys
import time

os.environ["SODA_CORE_TELEMETRY_ENABLED"] = "false"  # no network here; Soda's telemetry would retry

from soda_core.contracts.api.verify_api import verify_contract_locally

start = time.perf_counter()
result = verify_contract_locally(data_source_file_path=sys.argv[1], contract_file_path=sys.argv[2])
seconds = time.perf_counter() - start
outcomes = [c.outcome.name for r in result.contract_verification_results for c in r.check_results]
print(
    json.dumps(
        {
            "seconds": seconds,
            "checks": len(outcomes),
            "passed": outcomes.count("PASSED"),
            "errors": result.get_errors_str()[:500],
        }
    )
)
