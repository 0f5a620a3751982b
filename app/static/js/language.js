// The language switcher changes language as soon as another one is chosen; without JavaScript
// its button does the same.
document.querySelectorAll("form.language-switcher").forEach((form) => {
  const select = form.querySelector("select");
  const button = form.querySelector("button");
  if (!select || !button) return;
  button.classList.add("visually-hidden");
  select.addEventListener("change", () => form.requestSubmit ? form.requestSubmit() : form.submit());
});
