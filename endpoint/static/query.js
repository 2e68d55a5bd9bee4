// The query page: YASGUI (installed from npm, served under /ui/yasgui) on this endpoint, with
// the project's prefixes and the example queries (the named queries of /api/queries).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("query-config").textContent);
  // Class and property completion would ask LOV on the internet; nothing leaves this site.
  Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: config.endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    persistenceId: null, // always start from this page's query, not a stored tab
    yasqe: { value: config.initial },
  });
  const examples = new Map(config.examples.map((example) => [example.name, example]));
  for (const button of document.querySelectorAll("button[data-example]")) {
    button.addEventListener("click", () => {
      const example = examples.get(button.dataset.example);
      const tab = yasgui.getTab();
      tab.setName(example.summary);
      tab.setQuery(example.query);
      tab.getYasqe().query();
    });
  }
  window.creativeGraphYasgui = yasgui;
})();
