/* Pledge pages: forms post to the JSON API; lists are filled from it. No dependencies.
 *
 * A form with data-api="/path" is sent as JSON (data-method, default POST). Input names
 * are the API's field names; a dotted name ("address.line1") nests, a checkbox is a
 * boolean (or, with data-list, one value of a list), an empty text field is left out.
 * data-wrap="topics" on the form sends {"topics": {...}}; on a fieldset, it nests the
 * fieldset's inputs. On success: data-then="/url" or "reload"
 * navigates; else data-success (with {field} from the answer) is shown, data-reset
 * empties the form, data-refresh reloads the lists. An error shows the API's message,
 * and each detail beside the field it names.
 * The CSRF token comes from the login or signup answer (kept in sessionStorage) or the
 * page's csrf-token meta tag; it is never in a cookie.
 */
(function () {
  "use strict";

  var CSRF_KEY = "pledge.csrf";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return (meta && meta.content) || sessionStorage.getItem(CSRF_KEY) || "";
  }

  async function api(method, path, body, extraHeaders) {
    var headers = Object.assign({ Accept: "application/json" }, extraHeaders || {});
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && csrfToken()) headers["X-CSRF-Token"] = csrfToken();
    var response = await fetch(path, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    var text = await response.text();
    var data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    return { ok: response.ok, status: response.status, data: data };
  }

  function errorOf(result) {
    var error = result.data && result.data.error;
    if (error) return error;
    return { message: result.status === 404 ? "This is not available yet." : "Something went wrong (" + result.status + ").", details: [] };
  }

  // --- forms -------------------------------------------------------------------------

  function setPath(target, path, value) {
    var parts = path.split(".");
    var last = parts.pop();
    parts.forEach(function (part) { target = target[part] = target[part] || {}; });
    target[last] = value;
  }

  function fieldValue(el) {
    if (el.type === "checkbox") return el.checked;
    if (el.value.trim() === "") return undefined;
    if (el.type === "number") return Number(el.value);
    if (el.type === "datetime-local") return new Date(el.value).toISOString().replace(/\.\d{3}Z$/, "Z");
    return el.value;
  }

  function fieldPath(form, el) {  // a fieldset with data-wrap="marketing" nests its inputs under "marketing"
    var group = el.closest("fieldset[data-wrap]");
    return group && form.contains(group) ? group.dataset.wrap + "." + el.name : el.name;
  }

  function formBody(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.tagName === "BUTTON" || el.tagName === "FIELDSET") return;
      var path = fieldPath(form, el);
      if (el.type === "checkbox" && el.hasAttribute("data-list")) {
        var list = path.split(".").reduce(function (o, k) { return o && o[k]; }, body);
        if (!list) { list = []; setPath(body, path, list); }
        if (el.checked) list.push(el.value);
        return;
      }
      var value = fieldValue(el);
      if (value !== undefined) setPath(body, path, value);
    });
    if (form.dataset.wrap) { var wrapped = {}; wrapped[form.dataset.wrap] = body; return wrapped; }
    return body;
  }

  function slot(form, className, role) {
    var el = form.querySelector("." + className);
    if (!el) {
      el = document.createElement(role === "alert" ? "div" : "p");
      el.className = className;
      el.setAttribute("role", role);
      form.appendChild(el);
    }
    return el;
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    slot(form, "form-error", "alert").textContent = "";
  }

  function errorSlotFor(form, path) {
    var parts = path.split(".");
    if (form.dataset.wrap && parts[0] === form.dataset.wrap) parts.shift();
    while (parts.length) {  // the field itself, else its closest named parent ("categories.0" -> "categories")
      var found = Array.prototype.find.call(form.querySelectorAll("[data-error-for]"), function (el) {
        return el.dataset.errorFor === parts.join(".");
      });
      if (found) return found;
      parts.pop();
    }
    return null;
  }

  function showError(form, error) {
    var unplaced = [];
    var firstField = null;
    (error.details || []).forEach(function (detail) {
      var target = detail.path ? errorSlotFor(form, detail.path) : null;
      if (!target) { unplaced.push((detail.path ? detail.path + " " : "") + detail.message); return; }
      target.textContent = target.textContent ? target.textContent + "; " + detail.message : detail.message;
      var input = form.elements.namedItem(target.dataset.errorFor);
      if (input && input.setAttribute) {
        input.setAttribute("aria-invalid", "true");
        firstField = firstField || input;
      }
    });
    var box = slot(form, "form-error", "alert");
    box.textContent = [error.message].concat(unplaced).join(" ");
    if (firstField) firstField.focus();
  }

  function fill(template, data) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return data[key] === undefined ? "" : String(data[key]); });
  }

  function setBusy(form, busy) {
    form.setAttribute("aria-busy", String(busy));
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.setAttribute("aria-disabled", String(busy));
    });
    if (busy) slot(form, "form-status", "status").textContent = "Working…";
  }

  async function succeeded(form, data) {
    if (data.csrf_token) sessionStorage.setItem(CSRF_KEY, data.csrf_token);
    if (form.id === "logout" || form.id === "deactivate") sessionStorage.removeItem(CSRF_KEY);
    var then = form.dataset.then;
    if (then === "reload") { location.reload(); return; }
    if (then) { location.assign(then); return; }
    var status = slot(form, "form-status", "status");
    status.textContent = form.dataset.success ? fill(form.dataset.success, data) : "Done.";
    if (form.dataset.successLink) {
      var link = document.createElement("a");
      link.href = fill(form.dataset.successLink, data);
      link.textContent = form.dataset.successLinkText || link.href;
      status.append(" ", link);
    }
    if (form.hasAttribute("data-reset")) form.reset();
    if (form.hasAttribute("data-refresh")) await refreshViews();
  }

  function newKey() {
    return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/[^A-Za-z0-9_-]/g, "");
  }

  async function submitForm(form) {
    if (form.getAttribute("aria-busy") === "true") return;
    clearErrors(form);
    setBusy(form, true);
    var headers = {};
    if (form.hasAttribute("data-idempotent")) {  // kept only while the server has not answered
      form.dataset.key = form.dataset.key || newKey();
      headers["Idempotency-Key"] = form.dataset.key;
    }
    try {
      var result = await api(form.dataset.method || "POST", form.dataset.api, formBody(form), headers);
      delete form.dataset.key;
      slot(form, "form-status", "status").textContent = "";
      if (result.ok || (form.id === "logout" && result.status === 401)) await succeeded(form, result.data || {});
      else showError(form, errorOf(result));
    } catch (e) {
      slot(form, "form-status", "status").textContent = "";
      showError(form, { message: "We could not reach the server. Check your connection and try again.", details: [] });
    } finally {
      setBusy(form, false);
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-api]")) return;
    event.preventDefault();
    submitForm(form);
  });

  document.addEventListener("click", async function (event) {
    var button = event.target.closest("button[data-delete]");
    if (!button || button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    showPageError(null);
    try {
      var result = await api("DELETE", button.dataset.delete);
      if (!result.ok) showPageError(errorOf(result));
    } catch (e) {
      showPageError({ message: "We could not reach the server. Check your connection and try again." });
    }
    await refreshViews();
    document.getElementById("main").focus();
  });

  document.addEventListener("click", function (event) {  // the header's "Log out" sends the logout form
    var link = event.target.closest("a.logout-link");
    var form = document.getElementById("logout");
    if (!link || !form) return;
    event.preventDefault();
    form.requestSubmit();
  });

  function showPageError(error) {
    var box = document.getElementById("page-error");
    if (box) box.textContent = error ? error.message : "";
  }

  // --- lists filled from the API -----------------------------------------------------

  function h(tag, attributes) {
    var el = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { el.setAttribute(name, attributes[name]); });
    Array.prototype.slice.call(arguments, 2).forEach(function (child) {
      if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
    });
    return el;
  }

  function hidden(text) { return h("span", { class: "visually-hidden" }, text); }

  function table(caption, headings, rows) {
    return h("table", {},
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, ...headings.map(function (t) { return h("th", { scope: "col" }, t); }))),
      h("tbody", {}, ...rows.map(function (cells) { return h("tr", {}, ...cells.map(function (c) { return h("td", {}, c); })); })));
  }

  function day(iso) { return iso ? h("time", { datetime: iso }, iso.slice(0, 10)) : "—"; }

  function removeButton(path, label, what) {
    return h("button", { type: "button", class: "secondary", "data-delete": path }, label, hidden(" " + what));
  }

  function paymentLabel(method) {
    var kind = method.type === "bank_account" ? "Bank account" : (method.brand || "card").replace(/^./, function (c) { return c.toUpperCase(); });
    return kind + " •••• " + method.last4;
  }

  function unavailable(el, result) {
    el.replaceChildren(h("p", {}, errorOf(result).message));
  }

  var VIEWS = {
    catalog: async function (el, load) {
      var result = await load("/catalog");
      if (!result.ok) return unavailable(el, result);
      el.replaceChildren(h("ul", { class: "products" }, ...result.data.products.map(productItem)));
    },
    cart: async function (el, load) {
      var results = await Promise.all([load("/cart"), load("/catalog")]);
      var cart = results[0];
      if (!cart.ok) return unavailable(el, cart);
      var names = {};
      ((results[1].data || {}).products || []).forEach(function (p) { names[p.sku] = p.name; });
      if (!cart.data.items.length) { el.replaceChildren(h("p", {}, "Your cart is empty.")); return; }
      el.replaceChildren(table("Your cart", ["Product", "Billing", "Quantity", "Unit price", "Amount", ""],
        cart.data.items.map(function (item) {
          var name = names[item.sku] || item.sku;
          return [name, item.billing_cycle, item.quantity, item.unit_amount, item.amount,
            removeButton("/cart/items/" + encodeURIComponent(item.sku), "Remove", name)];
        })), h("p", { class: "total" }, "Total: ", h("strong", { "data-total": "" }, cart.data.total + " " + cart.data.currency)));
    },
    "payment-options": async function (el, load) {
      var result = await load("/account/payment-methods");
      var methods = result.ok ? result.data.payment_methods : [];
      el.replaceChildren(...(methods.length ? methods.map(function (m) { return h("option", { value: m.payment_method_id }, paymentLabel(m)); })
        : [h("option", { value: "" }, "No payment method on file")]));
    },
    orders: async function (el, load) {
      var result = await load("/orders");
      if (!result.ok) return unavailable(el, result);
      if (!result.data.orders.length) { el.replaceChildren(h("p", {}, "No orders yet.")); return; }
      el.replaceChildren(table("Your orders", ["Order", "Placed", "Total", "Paid with", "Receipt"],
        result.data.orders.map(function (order) {
          return [order.order_id, day(order.placed_at), order.total + " " + order.currency,
            order.payment ? paymentLabel(order.payment) : "—",
            h("a", { href: "/orders/" + encodeURIComponent(order.order_id) + "/receipt" }, "Receipt", hidden(" for order " + order.order_id))];
        })));
    },
    "payment-methods": async function (el, load) {
      var result = await load("/account/payment-methods");
      if (!result.ok) return unavailable(el, result);
      if (!result.data.payment_methods.length) { el.replaceChildren(h("p", {}, "No payment method on file.")); return; }
      el.replaceChildren(h("ul", { class: "list" }, ...result.data.payment_methods.map(function (m) {
        var expiry = m.exp_month ? " · expires " + String(m.exp_month).padStart(2, "0") + "/" + m.exp_year : "";
        return h("li", { "data-payment-method": m.payment_method_id }, h("span", { class: "masked" }, paymentLabel(m)),
          expiry + (m.holder_name ? " · " + m.holder_name : "") + " ", removeButton("/account/payment-methods/" + encodeURIComponent(m.payment_method_id), "Remove", paymentLabel(m)));
      })));
    },
    "identity-document": async function (el, load) {
      var result = await load("/account/identity-document");
      if (result.status === 404) { el.replaceChildren(h("p", {}, "No identity document on file.")); return; }
      if (!result.ok) return unavailable(el, result);
      var doc = result.data;
      el.replaceChildren(h("p", {}, h("span", { class: "masked" }, doc.type.replace(/_/g, " ") + " (" + doc.country + ") •••• " + doc.last4),
        " · updated ", day(doc.updated_at), " ", removeButton("/account/identity-document", "Remove", "identity document")));
    },
    permissions: async function (el, load) {
      var result = await load("/account/disclosures");
      if (!result.ok) return unavailable(el, result);
      if (!result.data.permissions.length) { el.replaceChildren(h("p", {}, "You have granted no permission.")); return; }
      el.replaceChildren(table("Your permissions", ["Recipient", "Purpose", "Categories", "Granted", "Expires", "Status", ""],
        result.data.permissions.map(function (p) {
          return [p.recipient, p.purpose, p.categories.join(", ").replace(/_/g, " "), day(p.granted_at), day(p.expires_at),
            h("span", { "data-status": p.status }, p.status),
            p.status === "active" ? removeButton("/account/disclosures/" + encodeURIComponent(p.permission_id), "Revoke", p.recipient) : ""];
        })));
    },
    disclosures: async function (el, load) {
      var result = await load("/account/disclosures");
      if (!result.ok) return unavailable(el, result);
      if (!result.data.disclosures.length) { el.replaceChildren(h("p", {}, "We have disclosed nothing about you.")); return; }
      el.replaceChildren(table("Disclosures we made", ["Recipient", "Purpose", "Categories", "When", "On the basis of"],
        result.data.disclosures.map(function (d) {
          var basis = d.basis && d.basis.permission_id ? "your permission" : (d.basis.legal_basis || "").replace(/_/g, " ") + " " + (d.basis.reference || "");
          return [d.recipient, d.purpose, d.categories.join(", ").replace(/_/g, " "), day(d.disclosed_at), basis];
        })));
    }
  };

  function productItem(product) {
    var id = "add-" + product.sku.replace(/[^A-Za-z0-9_-]/g, "_");
    var cycles = Object.keys(product.billing_cycles);
    var needs = (product.requires || []).length ? h("p", { class: "hint" }, "Needs: " + product.requires.join(", ").replace(/_/g, " ") + ".") : null;
    var form = h("form", { id: id, class: "add-to-cart", method: "post", novalidate: "", "data-api": "/cart/items/" + encodeURIComponent(product.sku),
      "data-method": "PUT", "data-refresh": "", "data-success": "Added to your cart." },
      h("div", { class: "row" },
        h("div", { class: "field" }, h("label", { for: id + "-cycle" }, "Billing"),
          h("select", { id: id + "-cycle", name: "billing_cycle" }, ...cycles.map(function (cycle) {
            var price = product.billing_cycles[cycle];
            return h("option", { value: cycle }, cycle + ": " + price.amount + " " + price.currency);
          })), h("p", { class: "field-error", "data-error-for": "billing_cycle" })),
        h("div", { class: "field" }, h("label", { for: id + "-quantity" }, "Quantity"),
          h("input", { id: id + "-quantity", name: "quantity", type: "number", min: "1", max: "10", value: "1" }),
          h("p", { class: "field-error", "data-error-for": "quantity" }))),
      h("div", { class: "form-actions" }, h("button", { type: "submit" }, "Add to cart", hidden(" " + product.name))),
      h("p", { class: "form-status", role: "status" }), h("div", { class: "form-error", role: "alert" }));
    return h("li", { "data-sku": product.sku }, h("h3", {}, product.name), h("p", {}, product.description), needs, form);
  }

  async function refreshViews() {
    var cache = new Map();
    function load(path) {
      if (!cache.has(path)) cache.set(path, api("GET", path));
      return cache.get(path);
    }
    var views = Array.prototype.filter.call(document.querySelectorAll("[data-view]"), function (el) {
      return !(el.hasAttribute("data-once") && el.dataset.filled);  // a list that never changes on the page
    });
    await Promise.all(views.map(async function (el) {
      el.setAttribute("aria-busy", "true");
      try {
        await VIEWS[el.dataset.view](el, load);
        el.dataset.filled = "true";
      } catch (e) {
        el.replaceChildren(h("p", {}, "We could not load this. Reload the page to try again."));
      } finally {
        el.setAttribute("aria-busy", "false");
      }
    }));
    document.body.setAttribute("data-loaded", "true");
  }

  // --- page views (cookieless statistics; failures are ignored) -----------------------

  function withoutQuery(url) {
    var parsed = new URL(url);
    return parsed.origin + parsed.pathname;
  }

  function sendPageView() {
    var event = { name: "pageview", url: withoutQuery(location.href), screen_width: window.screen.width };
    if (document.referrer) event.referrer = withoutQuery(document.referrer);
    try {
      fetch("/stats/event", { method: "POST", keepalive: true, credentials: "omit",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(event) }).catch(function () {});
    } catch (e) { /* statistics never get in the way */ }
  }

  sendPageView();
  refreshViews();
}());
