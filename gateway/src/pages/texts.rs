//! Every word of the reset pages, in English, Swedish and Finnish.

use serde::Serialize;

/// The page texts of one language.
#[derive(Debug, Serialize)]
pub(crate) struct Texts {
    pub title: &'static str,
    pub choose: &'static str,
    pub new_password: &'static str,
    pub confirm_password: &'static str,
    pub policy: &'static str,
    pub set_password: &'static str,
    pub too_short: &'static str,
    pub refused_password: &'static str,
    pub mismatch: &'static str,
    pub done: &'static str,
    pub new_link: &'static str,
    pub email: &'static str,
    pub send_link: &'static str,
    pub forgot_intro: &'static str,
    pub forgot_sent: &'static str,
    pub invalid_email: &'static str,
    pub token_invalid: &'static str,
    pub token_expired: &'static str,
    pub token_used: &'static str,
    pub rate_limited: &'static str,
    pub unavailable: &'static str,
}

const EN: Texts = Texts {
    title: "Reset your password",
    choose: "Choose a new password for your account.",
    new_password: "New password",
    confirm_password: "New password again",
    policy: "At least 12 characters. A few unrelated words make a strong password; common passwords are refused.",
    set_password: "Set the new password",
    too_short: "The password is too short: use at least 12 characters.",
    refused_password: "This password cannot be used:",
    mismatch: "The two passwords do not match.",
    done: "Your password was changed. You can sign in with it now.",
    new_link: "Ask for a new link",
    email: "Email address",
    send_link: "Send me a new link",
    forgot_intro: "Enter the address of your account and we will mail you a link to reset your password.",
    forgot_sent: "If an account has this address, a new link is on its way. Check your mailbox.",
    invalid_email: "That is not a valid email address.",
    token_invalid: "This link is not valid. It may have been replaced by a newer one.",
    token_expired: "This link has expired.",
    token_used: "This link has already been used.",
    rate_limited: "Too many attempts. Please wait a while and try again.",
    unavailable: "The service is unavailable right now. Please try again in a moment.",
};

const SV: Texts = Texts {
    title: "Återställ ditt lösenord",
    choose: "Välj ett nytt lösenord för ditt konto.",
    new_password: "Nytt lösenord",
    confirm_password: "Nytt lösenord igen",
    policy: "Minst 12 tecken. Några orelaterade ord ger ett starkt lösenord; vanliga lösenord godtas inte.",
    set_password: "Spara det nya lösenordet",
    too_short: "Lösenordet är för kort: använd minst 12 tecken.",
    refused_password: "Det här lösenordet kan inte användas:",
    mismatch: "Lösenorden stämmer inte överens.",
    done: "Ditt lösenord har ändrats. Du kan logga in med det nu.",
    new_link: "Be om en ny länk",
    email: "E-postadress",
    send_link: "Skicka en ny länk",
    forgot_intro: "Ange ditt kontos adress så skickar vi en länk för att återställa lösenordet.",
    forgot_sent: "Om det finns ett konto med den här adressen är en ny länk på väg. Titta i din inkorg.",
    invalid_email: "Det är inte en giltig e-postadress.",
    token_invalid: "Länken är inte giltig. Den kan ha ersatts av en nyare.",
    token_expired: "Länken har gått ut.",
    token_used: "Länken har redan använts.",
    rate_limited: "För många försök. Vänta en stund och försök igen.",
    unavailable: "Tjänsten är inte tillgänglig just nu. Försök igen om en stund.",
};

const FI: Texts = Texts {
    title: "Vaihda salasanasi",
    choose: "Valitse tilillesi uusi salasana.",
    new_password: "Uusi salasana",
    confirm_password: "Uusi salasana uudelleen",
    policy: "Vähintään 12 merkkiä. Muutama toisiinsa liittymätön sana tekee vahvan salasanan; yleisiä salasanoja ei hyväksytä.",
    set_password: "Tallenna uusi salasana",
    too_short: "Salasana on liian lyhyt: käytä vähintään 12 merkkiä.",
    refused_password: "Tätä salasanaa ei voi käyttää:",
    mismatch: "Salasanat eivät täsmää.",
    done: "Salasanasi on vaihdettu. Voit nyt kirjautua sillä.",
    new_link: "Pyydä uusi linkki",
    email: "Sähköpostiosoite",
    send_link: "Lähetä uusi linkki",
    forgot_intro: "Anna tilisi sähköpostiosoite, niin lähetämme linkin salasanan vaihtamiseen.",
    forgot_sent: "Jos osoitteella on tili, uusi linkki on matkalla. Katso sähköpostisi.",
    invalid_email: "Sähköpostiosoite ei kelpaa.",
    token_invalid: "Linkki ei kelpaa. Se on ehkä korvattu uudemmalla.",
    token_expired: "Linkki on vanhentunut.",
    token_used: "Linkki on jo käytetty.",
    rate_limited: "Liian monta yritystä. Odota hetki ja yritä uudelleen.",
    unavailable: "Palvelu ei ole juuri nyt käytettävissä. Yritä hetken kuluttua uudelleen.",
};

/// The texts for a language tag (`sv-SE`, `fi`, ...): Swedish, Finnish, else English.
pub(crate) fn for_language(tag: &str) -> (&'static str, &'static Texts) {
    match tag
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "sv" => ("sv", &SV),
        "fi" => ("fi", &FI),
        _ => ("en", &EN),
    }
}
