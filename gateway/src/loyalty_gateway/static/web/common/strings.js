// Strings both apps use, in English and German.
export const COMMON = {
  en: {
    language: "Language", navigation: "Sections", loading: "Loading…", nothing_yet: "Nothing yet.",
    sign_in: "Sign in", sign_in_token: "Sign in with the token", sign_out: "Sign out", skip: "Skip to content", all: "All", when: "When",
    status: "Status", save: "Save", saved: "Saved.", name: "Name", amount: "Amount",
    dev_token: "Development token", dev_token_hint: "Paste a token the demo printed, or open the link it printed.",
    sign_in_provider: "Sign in with your account", sign_in_unavailable: "Sign-in is not set up for this deployment.",
  },
  de: {
    language: "Sprache", navigation: "Bereiche", loading: "Wird geladen …", nothing_yet: "Noch nichts.",
    sign_in: "Anmelden", sign_in_token: "Mit dem Token anmelden", sign_out: "Abmelden", skip: "Zum Inhalt springen", all: "Alle", when: "Wann",
    status: "Status", save: "Speichern", saved: "Gespeichert.", name: "Name", amount: "Betrag",
    dev_token: "Entwicklungs-Token", dev_token_hint: "Ein Token aus der Ausgabe der Demo einfügen oder den dort gezeigten Link öffnen.",
    sign_in_provider: "Mit Ihrem Konto anmelden", sign_in_unavailable: "Die Anmeldung ist für diese Installation nicht eingerichtet.",
  },
};
