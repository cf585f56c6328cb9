// Copy buttons: <button data-copy="input-id" data-copied="Copied">, no inline script (strict CSP).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copy);
  if (!input) return;
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    document.execCommand("copy"); // http:// pages without the Clipboard API
  }
  const label = button.textContent;
  button.textContent = button.dataset.copied;
  button.classList.add("copied");
  setTimeout(() => { button.textContent = label; button.classList.remove("copied"); }, 2000);
});
