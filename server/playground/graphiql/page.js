// Starts GraphiQL with the explorer plugin. Loaded from the server's own origin, like every
// other file of this page: its Content-Security-Policy allows scripts from 'self' only.
(function () {
  "use strict";

  var DEFAULT_QUERY = [
    "# The catalog's GraphiQL: Ctrl-Enter runs the query, and the",
    "# Docs pane (top left) describes every type and field.",
    "# Mutations need a write token; in the Headers tab below:",
    '#   {"Authorization": "Bearer <token>"}',
    "# Headers are sent with each request, never saved.",
    "# Subscriptions run too (subscription { catalogChanges { kind } }),",
    "# their results shown as each change is committed.",
    "{",
    "  products(first: 5) {",
    "    totalCount",
    "    nodes {",
    "      id",
    "      name",
    "      tags {",
    "        edges {",
    "          priority",
    "          addedAt",
    "          node { name }",
    "        }",
    "      }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");

  // The endpoint is this page's own path (/graphql); no query string, so nothing from the
  // URL reaches a request. Nothing is read from the URL at all: a link cannot plant
  // headers (a token) or a query in the editor.
  var ENDPOINT = window.location.pathname;
  var httpFetcher = GraphiQL.createFetcher({ url: ENDPOINT });

  // The operations of a document, in order: [{ type, name }]. Read from the text GraphiQL
  // sends, not from its parsed document, which can lag behind the editor by a keystroke.
  // Strings and comments are blanked first; only definitions at the top level count.
  function operationsIn(query) {
    var text = query.replace(/"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n\r]*/g, " ");
    var tokens = text.match(/[_A-Za-z][_0-9A-Za-z]*|[^\s,]/g) || [];
    var operations = [];
    var depth = 0;
    var current = null;
    tokens.forEach(function (token, at) {
      if (depth === 0 && current === null) {
        if (token === "query" || token === "mutation" || token === "subscription") {
          var name = /^[_A-Za-z]/.test(tokens[at + 1] || "") ? tokens[at + 1] : null;
          current = { type: token, name: name };
          operations.push(current);
        } else if (token === "fragment") {
          current = { type: "fragment", name: null };
        } else if (token === "{") {
          operations.push({ type: "query", name: null }); // the shorthand query
        }
      }
      if (token === "{" || token === "(") depth += 1;
      if (token === "}" || token === ")") depth -= 1;
      if (token === "}" && depth === 0) current = null;
    });
    return operations;
  }

  // The operation GraphiQL runs is a subscription: the one named, or the document's only one.
  function isSubscription(query, operationName) {
    var operations = operationsIn(query || "");
    var named = operations.filter(function (operation) {
      return operationName && operation.name === operationName;
    });
    var chosen = named.length === 1 ? named : operations;
    return chosen.length === 1 && chosen[0].type === "subscription";
  }

  // One `event:`/`data:` block of a text/event-stream; comment lines (keep-alive) are skipped.
  function parseEvent(block) {
    var event = { type: "message", data: [] };
    block.split("\n").forEach(function (line) {
      var colon = line.indexOf(":");
      if (line === "" || colon === 0) return;
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event.type = value;
      if (field === "data") event.data.push(value);
    });
    return { type: event.type, data: event.data.join("\n") };
  }

  // A subscription over the server's event stream (graphql-sse, distinct connections): one
  // POST with Accept: text/event-stream, each `next` event a result, until `complete`. Same
  // origin, so the page's connect-src 'self' allows it, and no WebSocket library is needed.
  // GraphiQL iterates the results; its stop button calls return(), which ends the request.
  function subscribeOverEventStream(params, headers) {
    var aborted = new AbortController();

    async function* results() {
      var response;
      try {
        response = await fetch(ENDPOINT, {
          method: "POST",
          headers: Object.assign({}, headers, {
            "Content-Type": "application/json",
            Accept: "text/event-stream",
          }),
          body: JSON.stringify(params),
          signal: aborted.signal,
        });
        var type = response.headers.get("content-type") || "";
        if (type.indexOf("text/event-stream") !== 0) {
          yield await response.json(); // refused before the stream started (401, 400)
          return;
        }
        var reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        var buffer = "";
        for (;;) {
          var chunk = await reader.read();
          if (chunk.done) return;
          buffer = (buffer + chunk.value).replace(/\r\n?/g, "\n");
          var end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            var event = parseEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (event.type === "complete") return;
            if (event.type === "next") yield JSON.parse(event.data);
          }
        }
      } catch (error) {
        if (aborted.signal.aborted) return; // stopped from GraphiQL
        throw error;
      } finally {
        aborted.abort();
      }
    }

    var iterator = results();
    var stream = {
      next: function () {
        return iterator.next();
      },
      return: function () {
        aborted.abort();
        return iterator.return();
      },
    };
    stream[Symbol.asyncIterator] = function () {
      return stream;
    };
    return stream;
  }

  // Queries and mutations go over HTTP as ever; subscriptions over the event stream.
  function fetcher(params, opts) {
    if (isSubscription(params.query, params.operationName)) {
      return subscribeOverEventStream(params, (opts && opts.headers) || {});
    }
    return httpFetcher(params, opts);
  }

  // GraphiQL keeps its tabs and its history in localStorage. Its history saves each run's
  // headers even with shouldPersistHeaders off, and headers carry tokens, so everything
  // GraphiQL stores passes through here and loses any "headers" entry on the way.
  function withoutHeaders(value) {
    try {
      return JSON.stringify(
        JSON.parse(value, function (key, item) {
          return key === "headers" ? undefined : item;
        }),
      );
    } catch (notJson) {
      return value;
    }
  }
  var storage = {
    getItem: function (key) {
      return window.localStorage.getItem(key);
    },
    setItem: function (key, value) {
      if (key === "graphiql:headers") {
        window.localStorage.removeItem(key);
        return;
      }
      window.localStorage.setItem(key, withoutHeaders(value));
    },
    removeItem: function (key) {
      window.localStorage.removeItem(key);
    },
    clear: function () {
      window.localStorage.clear();
    },
    key: function (index) {
      return window.localStorage.key(index);
    },
    get length() {
      return window.localStorage.length;
    },
  };
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  function CatalogGraphiQL() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      storage: storage,
      plugins: [explorer],
      defaultQuery: DEFAULT_QUERY,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      // Headers (a bearer token) live in memory only, never in localStorage.
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
      schemaDescription: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(CatalogGraphiQL),
  );
})();
