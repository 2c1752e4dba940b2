// Copy buttons: <button data-copy="element-id">. No other script runs on the hub's pages.
document.addEventListener("click", function (ev) {
  var id = ev.target && ev.target.getAttribute && ev.target.getAttribute("data-copy");
  if (!id) return;
  var el = document.getElementById(id);
  if (el && navigator.clipboard) {
    navigator.clipboard.writeText(el.textContent.trim()).then(function () { ev.target.textContent = "Copied"; });
  }
});
