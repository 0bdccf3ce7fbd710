/* Server-sent events over fetch: EventSource cannot POST, so the stream is parsed here. */
(function () {
  "use strict";

  function parseBlock(block) {
    var event = "message";
    var lines = [];
    block.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") return;
      var colon = line.indexOf(":");
      var field = colon === -1 ? line : line.slice(0, colon);
      var value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") lines.push(value);
    });
    if (!lines.length) return null;
    var payload;
    try {
      payload = JSON.parse(lines.join("\n"));
    } catch (e) {
      payload = { text: lines.join("\n") };
    }
    return { event: event, data: payload };
  }

  async function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    var carry = ""; // a "\r" at a chunk's end may be the first half of "\r\n"

    function take(text) {
      text = carry + text;
      carry = text.slice(-1) === "\r" ? "\r" : "";
      if (carry) text = text.slice(0, -1);
      buffer += text.replace(/\r\n?/g, "\n");
      var cut;
      while ((cut = buffer.indexOf("\n\n")) !== -1) {
        var parsed = parseBlock(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (parsed) onEvent(parsed.event, parsed.data);
      }
    }

    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      take(decoder.decode(chunk.value, { stream: true }));
    }
    take(decoder.decode() + (carry ? "\n" : ""));
    if (buffer.trim()) {
      var last = parseBlock(buffer);
      if (last) onEvent(last.event, last.data);
    }
  }

  window.RapportSSE = { read: readEvents, parseBlock: parseBlock };
})();
