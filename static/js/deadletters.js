// The dead-letter list: "select every row on this page" (htmx has nothing for ticking checkboxes).
// Rows swapped in by htmx are found at click time, so they are included.
document.addEventListener("change", function (event) {
  if (event.target.id !== "select-visible") {
    return;
  }
  var boxes = document.querySelectorAll('input[type="checkbox"][name="ids"][form="selection"]');
  for (var i = 0; i < boxes.length; i++) {
    boxes[i].checked = event.target.checked;
  }
});
