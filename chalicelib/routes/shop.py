"""The catalog and the shopping cart. No login and no CSRF token (an X-CSRF-Token header
is ignored): the cart is the browser's, named by the `cart` cookie, and its writes take
JSON bodies only, which a cross-site form cannot send."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.lazy import lazy_modules
from chalicelib.settings import get_settings
from chalicelib.web import handles_errors, json_body, json_response, read_cookie

if TYPE_CHECKING:
    from chalicelib.services import carts, catalog
else:  # loaded on first use (chalicelib/lazy.py)
    carts, catalog = lazy_modules("chalicelib.services.carts", "chalicelib.services.catalog")

shop = Blueprint(__name__)

CART_COOKIE = "cart"


def cart_cookie(token: str) -> str:
    """HttpOnly, SameSite=Lax, the whole site, as long as the server keeps the cart."""
    max_age = int(carts.lifetime().total_seconds())
    attributes = [f"{CART_COOKIE}={token}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if get_settings().cookie_secure:
        attributes.append("Secure")
    return "; ".join(attributes)


def cart_token(request: Request) -> str | None:
    return read_cookie(request, CART_COOKIE)


def _cart_response(answer: carts.CartAnswer) -> Response:
    return json_response(answer.view, 200, {"Set-Cookie": cart_cookie(answer.token)} if answer.token else None)


@shop.route("/catalog", methods=["GET"])
@handles_errors
def get_catalog() -> Response:
    return json_response(catalog.catalog_view())


@shop.route("/cart", methods=["GET"])
@handles_errors
def get_cart() -> Response:
    return _cart_response(carts.view_cart(cart_token(shop.current_request)))


@shop.route("/cart/items/{sku}", methods=["PUT"])
@handles_errors
def put_cart_item(sku: str) -> Response:
    request = shop.current_request
    data = json_body(request, "cart_item")
    return _cart_response(carts.set_item(cart_token(request), sku, data["billing_cycle"], data["quantity"]))


@shop.route("/cart/items/{sku}", methods=["DELETE"])
@handles_errors
def delete_cart_item(sku: str) -> Response:
    return _cart_response(carts.remove_item(cart_token(shop.current_request), sku))
