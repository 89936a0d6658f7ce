// Runs before the first paint so a chosen theme never flashes the other one.
(function () {
  try {
    // The portal's darkMode=true|false is the embedding page's choice: nothing overrides it.
    if (document.documentElement.hasAttribute("data-theme-fixed")) return;
    var theme = localStorage.getItem("hookline-theme");
    if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  } catch (e) {
    /* storage blocked: follow the system setting */
  }
})();
