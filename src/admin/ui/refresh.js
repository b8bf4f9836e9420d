(function () {
  var busy = false;
  setInterval(function () {
    if (busy) return;
    busy = true;
    fetch(location.pathname, { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("status");
        var main = document.getElementById("status");
        if (fresh && main) main.replaceWith(document.adoptNode(fresh));
        document.body.classList.remove("stale");
      })
      .catch(function () {
        document.body.classList.add("stale");
      })
      .finally(function () {
        busy = false;
      });
  }, 1000);
})();
