"""Drives the gateway with Equinix Metal's official Python client (equinix-metal 0.11.0).

One call per run, for the Rust end-to-end tests that orchestrate the flow and check the outcome:

    metal.py create HOST EMAIL   (API key in METAL_API_KEY; may be empty)
    metal.py reset HOST          (reset token in METAL_RESET_TOKEN)

Prints one JSON object: {"status": 201, "body": ...} on success, or the status and the error
body parsed as the client's own `Error` model.
"""

import json
import os
import sys

import equinix_metal
from equinix_metal.models.error import Error


def client(host: str, key: str) -> equinix_metal.PasswordResetTokensApi:
    configuration = equinix_metal.Configuration(host=host)
    if key:
        # An empty key would make the client send a header without a value.
        configuration.api_key["x_auth_token"] = key
    return equinix_metal.PasswordResetTokensApi(equinix_metal.ApiClient(configuration))


def main() -> None:
    action, host = sys.argv[1], sys.argv[2]
    try:
        if action == "create":
            api = client(host, os.environ.get("METAL_API_KEY", ""))
            response = api.create_password_reset_token_with_http_info(sys.argv[3])
            result = {"status": response.status_code, "body": None}
        elif action == "reset":
            api = client(host, os.environ["METAL_RESET_TOKEN"])
            response = api.reset_password_with_http_info()
            result = {"status": response.status_code, "body": response.data.to_dict()}
        else:
            raise SystemExit(f"unknown action {action}")
    except equinix_metal.ApiException as error:
        parsed = Error.from_json(error.body) if error.body else None
        result = {"status": error.status, "error": parsed.to_dict() if parsed else None}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
