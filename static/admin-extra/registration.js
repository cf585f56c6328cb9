// Preparing a registration: only the inputs the chosen kind uses are shown, and the owners' shares
// are added up as they are typed. No inline script: the strict CSP loads this file.
"use strict";
(function () {
  function gcd(a, b) { return b ? gcd(b, a % b) : Math.abs(a); }

  // "1/2", "0.25", "1" -> [numerator, denominator], or null when it is not a share.
  function parseShare(text) {
    text = text.trim();
    var m = /^(\d+)\s*\/\s*(\d+)$/.exec(text);
    if (m) return +m[2] > 0 ? [+m[1], +m[2]] : null;
    m = /^(\d+)(?:\.(\d+))?$/.exec(text);
    if (!m) return null;
    var decimals = m[2] || "", den = Math.pow(10, decimals.length);
    return [+m[1] * den + (+decimals || 0), den];
  }

  function showKind() {
    var kind = document.querySelector("select.admin-extra-kind");
    if (!kind) return;
    document.querySelectorAll("fieldset.registration-group").forEach(function (fieldset) {
      fieldset.hidden = !fieldset.classList.contains("for-" + kind.value);
    });
  }

  function showSum(output) {
    var num = 0, den = 1, count = 0, bad = false;
    document.querySelectorAll("input.admin-extra-share").forEach(function (input) {
      if (!input.value.trim()) return;
      var share = parseShare(input.value);
      if (!share) { bad = true; return; }
      num = num * share[1] + share[0] * den;
      den = den * share[1];
      var g = gcd(num, den) || 1;
      num /= g; den /= g;
      count += 1;
    });
    var text = den === 1 ? String(num) : num + "/" + den;
    output.textContent = output.dataset.label + " " + (count ? text : "—") +
      (bad ? " · " + output.dataset.bad : (count && num !== den ? " · " + output.dataset.wrong : ""));
    output.classList.toggle("wrong", bad || (count > 0 && num !== den));
    output.classList.toggle("right", !bad && count > 0 && num === den);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var kind = document.querySelector("select.admin-extra-kind");
    if (kind) { kind.addEventListener("change", showKind); showKind(); }
    var first = document.querySelector("input.admin-extra-share");
    if (!first) return;
    var output = document.createElement("p");
    output.className = "admin-extra-sum";
    output.setAttribute("aria-live", "polite");
    output.dataset.label = first.dataset.sumLabel;
    output.dataset.wrong = first.dataset.sumWrong;
    output.dataset.bad = first.dataset.sumBad;
    first.closest("fieldset").appendChild(output);
    document.querySelectorAll("input.admin-extra-share").forEach(function (input) {
      input.addEventListener("input", function () { showSum(output); });
    });
    showSum(output);
  });
})();

// Repeated rows (owners, new parcels, documents): the empty ones past the first few are hidden until
// the clerk asks for another with the button under them.
(function () {
  var GROUPS = [
    {first: "owner_share_1", fields: ["owner", "owner_share"], shown: 2},
    {first: "part_number_1", fields: ["part_number", "part_location", "part_area"], shown: 2},
    {first: "document_title_1", fields: ["document_title", "document"], shown: 1},
  ];

  function rowsOf(group, n) {
    return group.fields.map(function (name) {
      return document.querySelector(".form-row.field-" + name + "_" + n);
    }).filter(Boolean);
  }

  function isEmpty(rows) {
    return rows.every(function (row) {
      if (row.classList.contains("errors")) return false;
      return Array.prototype.every.call(row.querySelectorAll("input, select"), function (input) {
        return input.type === "file" ? !input.files.length : !input.value;
      });
    });
  }

  function setUp(group) {
    var first = document.getElementById("id_" + group.first);
    if (!first || !first.dataset.more) return;
    var n = 1, last = 0, all = [];
    for (var rows = rowsOf(group, n); rows.length; rows = rowsOf(group, ++n)) {
      all.push(rows);
      if (!isEmpty(rows)) last = n;
    }
    var visible = Math.max(group.shown, last);
    all.forEach(function (rows, i) { rows.forEach(function (row) { row.hidden = i >= visible; }); });
    if (visible >= all.length) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button admin-extra-more";
    button.textContent = first.dataset.more;
    button.addEventListener("click", function () {
      all[visible].forEach(function (row) { row.hidden = false; });
      visible += 1;
      if (visible >= all.length) button.hidden = true;
    });
    var lastRow = all[all.length - 1];
    lastRow[lastRow.length - 1].after(button);
  }

  document.addEventListener("DOMContentLoaded", function () { GROUPS.forEach(setUp); });
})();
