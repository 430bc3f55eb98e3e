// Ask before an irreversible action. A plain form (not sent by htmx, so hx-confirm does not
// apply) with data-confirm="…" is submitted only once the user agrees. A file of its own:
// the Content-Security-Policy allows no inline script.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
