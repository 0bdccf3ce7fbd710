/* Shared browser code: turning API error bodies into sentences a person can act on. */
(function () {
  "use strict";

  function detailToText(detail) {
    if (!detail) return "";
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail
        .map(function (item) {
          if (!item || typeof item !== "object") return String(item);
          var loc = Array.isArray(item.loc) ? item.loc.filter(function (p) { return p !== "body"; }).join(".") : "";
          return (loc ? loc + ": " : "") + (item.msg || item.message || "");
        })
        .join("; ");
    }
    if (typeof detail === "object") return detail.message || detail.msg || JSON.stringify(detail);
    return String(detail);
  }

  var STATUS_HINTS = {
    401: "Your session has ended. Sign in again, then retry.",
    404: "This interview no longer exists.",
    409: "Your partner is still replying to your last message. Wait a moment, then retry.",
    413: "That message is too long to send.",
    422: "That message could not be sent.",
    429: "Too many requests right now. Wait a moment, then retry.",
    502: "The model did not answer. Check that it is running, then retry.",
    503: "The model is unavailable right now. Check that it is running, then retry.",
    504: "The model took too long to answer. Retry in a moment."
  };

  async function errorFromResponse(response) {
    var text = "";
    try {
      var body = await response.json();
      text = detailToText(body.detail !== undefined ? body.detail : body.error || body.message || body);
    } catch (e) {
      text = "";
    }
    var hint = STATUS_HINTS[response.status] || "Something went wrong on the server (" + response.status + ").";
    if (!text) return hint;
    if (response.status === 409 && !/wait|progress|flight|reply/i.test(text)) return text + " " + hint;
    return text;
  }

  var NETWORK_MESSAGE = "Can't reach the Rapport server. Check your connection (or that the server is running), then retry.";

  window.Rapport = {
    detailToText: detailToText,
    errorFromResponse: errorFromResponse,
    NETWORK_MESSAGE: NETWORK_MESSAGE
  };
})();
