/* Printing prints what is open on screen: a folded list stays folded on paper (the summary
   PDF, heard analyze --summary-pdf, is the version made for paper). */
/* A link to a message or a list inside a folded part opens that part first. */
function heardReveal(id) {
  var el = id && document.getElementById(id);
  for (var e = el; e; e = e.parentElement) { if (e.tagName === "DETAILS") { e.open = true; } }
}
document.addEventListener("click", function (ev) {
  var a = ev.target.closest && ev.target.closest('a[href^="#"]');
  if (a) { heardReveal(decodeURIComponent(a.getAttribute("href").slice(1))); }
});
window.addEventListener("hashchange", function () { heardReveal(decodeURIComponent(location.hash.slice(1))); });
if (location.hash) {
  heardReveal(decodeURIComponent(location.hash.slice(1)));
  var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target) { target.scrollIntoView(); }
}
