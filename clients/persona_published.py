"""Drives the persona surface with a client generated from persona's own 1.3.0 models
(clients/persona-1.3.0.yaml), as KSF Media's published clients are, and parses every error
body with those models: a string the models pin that the gateway got wrong raises ValueError.

    persona_published.py CLIENT_DIR HOST forgot EMAIL
    persona_published.py CLIENT_DIR HOST check TOKEN
    persona_published.py CLIENT_DIR HOST reset TOKEN [PASSWORD CONFIRMATION]
    persona_published.py CLIENT_DIR HOST wrong-media-type

Prints one JSON object: {"status": 204}, or the status, the model the body was parsed with
and what the model read ({"model": "InlineResponse400", "parsed": {...}, "raw": {...}}).
"""

import json
import sys


def main() -> None:
    client_dir, host, action, *args = sys.argv[1:]
    sys.path.insert(0, client_dir)
    import persona

    configuration = persona.Configuration(host=host)
    client = persona.ApiClient(configuration)
    api = persona.AccountApi(client)
    try:
        if action == "forgot":
            (email,) = args
            response = api.account_password_forgot_post_with_http_info(
                persona.ForgotPasswordData(email=email)
            )
        elif action == "check":
            (token,) = args
            response = api.account_password_check_token_post_with_http_info(token)
        elif action == "reset":
            token, *passwords = args
            data = persona.UpdatePasswordData(token=token)
            if passwords:
                data.password, data.confirm_password = passwords
            response = api.account_password_reset_post_with_http_info(data)
        elif action == "wrong-media-type":
            # The generated operations always send JSON: go one level down, as a caller with
            # a wrong Content-Type would, and read the answer with the same models.
            raw = client.rest_client.request(
                "POST",
                f"{host}/account/password/forgot",
                headers={"Content-Type": "text/plain"},
                body='{"email": "ada@example.com"}',
            )
            raw.read()
            raise persona.ApiException(http_resp=raw, body=raw.data.decode(), data=None)
        else:
            raise SystemExit(f"unknown action {action}")
        result = {"status": response.status_code}
    except persona.ApiException as error:
        raw = json.loads(error.body) if error.body else None
        model = {400: persona.InlineResponse400, 415: persona.InlineResponse415}.get(error.status)
        result = {"status": error.status, "raw": raw}
        if model is not None:
            # Raises on any pinned string the gateway got wrong.
            parsed = model.from_json(error.body)
            result["model"] = model.__name__
            result["parsed"] = parsed.to_dict()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
