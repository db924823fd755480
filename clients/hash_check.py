"""Checks a password against a stored hash with the implementation a platform's login uses.

Usage: hash_check.py argon2id|bcrypt|django-pbkdf2, with HASH and PASSWORD in the environment.
Prints {"valid": true|false}.
"""

import json
import os
import sys


def check(kind: str, stored: str, password: str) -> bool:
    if kind == "argon2id":
        from argon2 import PasswordHasher
        from argon2.exceptions import VerificationError

        try:
            return PasswordHasher().verify(stored, password)
        except VerificationError:
            return False
    if kind == "bcrypt":
        import bcrypt

        return bcrypt.checkpw(password.encode(), stored.encode())
    if kind == "django-pbkdf2":
        from django.conf import settings

        settings.configure(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
        )
        from django.contrib.auth.hashers import check_password

        return check_password(password, stored)
    raise SystemExit(f"unknown kind {kind}")


if __name__ == "__main__":
    valid = check(sys.argv[1], os.environ["HASH"], os.environ["PASSWORD"])
    print(json.dumps({"valid": valid}))
