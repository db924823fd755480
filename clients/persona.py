"""Drives the gateway's persona surface with a client generated from its own /openapi.json.

    persona.py CLIENT_DIR HOST forgot EMAIL
    persona.py CLIENT_DIR HOST check TOKEN
    persona.py CLIENT_DIR HOST reset TOKEN PASSWORD CONFIRMATION

CLIENT_DIR holds the generated package `persona_client`. Prints one JSON object:
{"status": 204} on success, or the status and the error body.
"""

import json
import sys


def main() -> None:
    client_dir, host, action, *args = sys.argv[1:]
    sys.path.insert(0, client_dir)
    import persona_client

    configuration = persona_client.Configuration(host=host)
    api = persona_client.AccountApi(persona_client.ApiClient(configuration))
    try:
        if action == "forgot":
            (email,) = args
            response = api.account_password_forgot_post_with_http_info(
                persona_client.ForgotPasswordData(email=email)
            )
        elif action == "check":
            (token,) = args
            response = api.account_password_check_token_post_with_http_info(token)
        elif action == "reset":
            token, password, confirmation = args
            response = api.account_password_reset_post_with_http_info(
                persona_client.UpdatePasswordData(
                    token=token, password=password, confirm_password=confirmation
                )
            )
        else:
            raise SystemExit(f"unknown action {action}")
        result = {"status": response.status_code}
    except persona_client.ApiException as error:
        result = {"status": error.status, "error": json.loads(error.body) if error.body else None}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
