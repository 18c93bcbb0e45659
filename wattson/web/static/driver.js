// The driver page: pay for a product, follow the charging session, stop it, show the receipt.
// Talks only to Wattson's driver API (seed 000's by_code for the live fields).
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const t = data.t;
  const $ = (id) => document.getElementById(id);
  const api = (path, options) => fetch(data.api + path, Object.assign({headers: {"content-type": "application/json"}}, options));
  // Amounts come written by the server (payment.text: Wattson's one money format per language).
  const shown = (text) => text == null ? "–" : text;
  const kwh = new Intl.NumberFormat(data.lang, {minimumFractionDigits: 3, maximumFractionDigits: 3});
  const lang = "lang=" + encodeURIComponent(data.lang);
  const settled = ["captured", "refunded", "released", "declined", "failed"];
  let session = data.session || null;
  let timer = null;
  let stripe = null, stripeCard = null;

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = !message;
  }

  async function errorOf(response) {
    try { const body = await response.json(); return body.error ? body.error.message : response.statusText; }
    catch (e) { return response.statusText; }
  }

  function cardFromForm(form) {
    const [month, year] = (form.expiry.value || "").split("/").map((s) => parseInt(s.trim(), 10));
    return {card_number: form.card_number.value.replace(/\s+/g, ""), exp_month: month || 0,
            exp_year: year < 100 ? 2000 + year : (year || 0), cvc: form.cvc.value.trim()};
  }

  async function pay(event) {
    event.preventDefault();
    const form = event.target;
    const chosen = form.querySelector("input[name=product]:checked");
    if (!chosen) { showError(t.choose); return; }
    const button = $("pay");
    button.disabled = true;
    button.textContent = t.paying;
    showError("");
    const body = {evse_id: data.evse, product_id: chosen.value, language: data.lang};
    if (form.email.value) body.email = form.email.value;
    try {
      if (stripe) {
        const result = await stripe.createPaymentMethod({type: "card", card: stripeCard});
        if (result.error) throw new Error(result.error.message);
        body.payment_method = result.paymentMethod.id;
      } else {
        body.card = cardFromForm(form);
      }
      const key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
      const response = await api("/payments", {method: "POST", body: JSON.stringify(body),
                                                headers: {"content-type": "application/json", "Idempotency-Key": key}});
      if (!response.ok) throw new Error(response.status === 402 ? t.declined + ": " + await errorOf(response) : await errorOf(response));
      const payment = await response.json();
      session = payment.session_id;
      const url = new URL(location.href);
      url.searchParams.set("session", session);
      history.replaceState(null, "", url);
      follow();
    } catch (error) {
      showError(error.message || t.error);
      button.disabled = false;
      button.textContent = t.pay;
    }
  }

  function follow() {
    const form = $("pay-form");
    if (form) form.hidden = true;
    $("progress").hidden = false;
    $("status").textContent = t.starting;
    poll();
  }

  const pad = (n) => String(n).padStart(2, "0");

  async function poll() {
    clearTimeout(timer);
    try {
      const [pointResponse, paymentResponse] = await Promise.all([
        api("/charging_points/by_code/" + encodeURIComponent(data.evse) + "?session_id=" + encodeURIComponent(session)),
        api("/payments/" + encodeURIComponent(session) + "?" + lang)]);
      if (!pointResponse.ok || !paymentResponse.ok) throw new Error(await errorOf(pointResponse.ok ? paymentResponse : pointResponse));
      const point = await pointResponse.json();
      const payment = await paymentResponse.json();
      render(point, payment);
      if (settled.includes(payment.state)) return;
    } catch (error) {
      showError(error.message || t.error);
    }
    timer = setTimeout(poll, 1500);
  }

  function render(point, payment) {
    if (point.state) {
      const state = $("state");
      state.dataset.code = point.state.code;
      state.textContent = t.states[point.state.code] || point.state.name;
    }
    if (point.charging_start_hour != null) {
      $("elapsed").textContent = point.charging_start_hour + ":" + pad(point.charging_start_minute) + ":" + pad(point.charging_start_second);
    }
    if (payment.energy_kwh != null) $("energy").textContent = kwh.format(payment.energy_kwh) + " kWh";
    $("cost").textContent = shown(payment.text.cost_incl_vat);
    const percent = point.percent || 0;
    $("percent").value = percent;
    $("percent-text").textContent = percent + " %";
    // Every state has its line, so none outlives its state (no "Stopping…" once settled).
    const status = {authorized: t.starting, starting: t.starting, charging: t.charging, stopping: t.stopping,
                    finished: t.finished, releasing: t.finished, captured: t.ended, refunded: t.ended,
                    released: t.not_started, declined: t.declined, failed: t.failed}[payment.state];
    if (status) $("status").textContent = status;
    $("stop").hidden = !["starting", "charging"].includes(payment.state);
    if (settled.includes(payment.state)) {
      $("progress").hidden = payment.state !== "captured" && payment.state !== "refunded";
      $("stop").hidden = true;
      $("done").hidden = false;
      $("captured").textContent = shown(payment.text.amount_captured);
      $("released").textContent = shown(payment.text.amount_released != null ? payment.text.amount_released
                                                                             : payment.text.amount_held);
      if (payment.receipt_url) {
        $("receipt").href = payment.receipt_url;
        $("receipt-pdf").href = payment.receipt_pdf_url;
      } else {
        $("receipt").parentElement.textContent = payment.failure ? t.not_started + ": " + payment.failure : t.not_started;
      }
    }
  }

  async function stop() {
    $("stop").disabled = true;
    const response = await api("/payments/" + encodeURIComponent(session) + "/stop?" + lang, {method: "POST"});
    if (!response.ok) showError(await errorOf(response));
    $("stop").disabled = false;
    poll();
  }

  function loadStripe() {
    const script = document.createElement("script");
    script.src = "https://js.stripe.com/v3/";
    script.onload = () => {
      stripe = window.Stripe(data.provider.publishable_key);
      stripeCard = stripe.elements({locale: data.lang}).create("card");
      stripeCard.mount("#stripe-card");
    };
    document.head.appendChild(script);
  }

  const form = $("pay-form");
  if (form) form.addEventListener("submit", pay);
  $("stop").addEventListener("click", stop);
  if (data.provider.provider === "stripe" && form) loadStripe();
  if (session) follow();
})();
