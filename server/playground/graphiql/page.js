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
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname });

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
