"""Extension singletons, bound to the app in create_app()."""

from flask_limiter.util import get_remote_address

from .database import db
from .limits import Limiter
from .smorest import Api, Blueprint
from .tokens import JWTManager

jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
api = Api()

__all__ = ["Api", "Blueprint", "api", "db", "jwt", "limiter"]
