//! Every fixed word of the reset pages, in English, Swedish and Finnish.

use serde::Serialize;

pub(crate) use crate::locale::Language;

impl Language {
    /// The page texts of this language.
    pub(crate) fn texts(self) -> &'static Texts {
        match self {
            Self::English => &EN,
            Self::Swedish => &SV,
            Self::Finnish => &FI,
        }
    }
}

/// The page texts of one language; the templates name them as `t.<field>`.
#[derive(Debug, Serialize)]
pub(crate) struct Texts {
    pub title: &'static str,
    pub choose: &'static str,
    pub new_password: &'static str,
    pub confirm_password: &'static str,
    /// `{n}` stands for the policy's minimum length.
    pub policy: &'static str,
    pub set_password: &'static str,
    /// `{n}` stands for the policy's minimum length.
    pub too_short: &'static str,
    /// The policy hint when the token service did not state its minimum.
    pub policy_unknown: &'static str,
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
    pub token_in_use: &'static str,
    pub rate_limited: &'static str,
    pub unavailable: &'static str,
    pub cross_site: &'static str,
}

const EN: Texts = Texts {
    title: "Reset your password",
    choose: "Choose a new password for your account.",
    new_password: "New password",
    confirm_password: "Confirm the new password",
    policy: "At least {n} characters. A few unrelated words make a strong password; common passwords are refused.",
    policy_unknown: "A few unrelated words make a strong password; common passwords are refused.",
    set_password: "Set the new password",
    too_short: "The password is too short: use at least {n} characters.",
    mismatch: "The two passwords do not match.",
    done: "Your password was changed. You can sign in with it now.",
    new_link: "Ask for a new link",
    email: "Email address",
    send_link: "Send me a link",
    forgot_intro: "Enter your account's email address and we will send you a link to reset your password.",
    forgot_sent: "If an account exists for this address, a new link is on its way. Check your inbox.",
    invalid_email: "That is not a valid email address.",
    token_invalid: "This link is not valid. It may have been replaced by a newer one.",
    token_expired: "This link has expired.",
    token_used: "This link has already been used.",
    token_in_use: "We are already working on it: your new password is being saved. Wait a moment, then reload this page to see the result.",
    rate_limited: "Too many attempts. Please wait a while and try again.",
    unavailable: "The service is unavailable right now. Please try again in a moment.",
    cross_site: "This form was sent from another website, so it was not accepted. Please use the form on this page.",
};

const SV: Texts = Texts {
    title: "Återställ ditt lösenord",
    choose: "Välj ett nytt lösenord för ditt konto.",
    new_password: "Nytt lösenord",
    confirm_password: "Upprepa det nya lösenordet",
    policy: "Minst {n} tecken. Några ord som inte hör ihop ger ett starkt lösenord; vanliga lösenord godtas inte.",
    policy_unknown: "Några ord som inte hör ihop ger ett starkt lösenord; vanliga lösenord godtas inte.",
    set_password: "Spara det nya lösenordet",
    too_short: "Lösenordet är för kort: använd minst {n} tecken.",
    mismatch: "Lösenorden stämmer inte överens.",
    done: "Ditt lösenord har ändrats. Du kan logga in med det nu.",
    new_link: "Be om en ny länk",
    email: "E-postadress",
    send_link: "Skicka en länk",
    forgot_intro: "Ange e-postadressen till ditt konto så skickar vi en länk där du kan välja ett nytt lösenord.",
    forgot_sent: "Om det finns ett konto med den här adressen är en ny länk på väg. Titta i din inkorg.",
    invalid_email: "Det är inte en giltig e-postadress.",
    token_invalid: "Länken är inte giltig. Den kan ha ersatts av en nyare.",
    token_expired: "Länken har gått ut.",
    token_used: "Länken har redan använts.",
    token_in_use: "Vi arbetar redan på det: ditt nya lösenord sparas. Vänta en stund och ladda sedan om sidan för att se resultatet.",
    rate_limited: "För många försök. Vänta en stund och försök igen.",
    unavailable: "Tjänsten är inte tillgänglig just nu. Försök igen om en stund.",
    cross_site: "Formuläret skickades från en annan webbplats och godtogs därför inte. Använd formuläret på den här sidan.",
};

const FI: Texts = Texts {
    title: "Vaihda salasanasi",
    choose: "Valitse tilillesi uusi salasana.",
    new_password: "Uusi salasana",
    confirm_password: "Toista uusi salasana",
    policy: "Vähintään {n} merkkiä. Muutama toisiinsa liittymätön sana tekee vahvan salasanan; yleisiä salasanoja ei hyväksytä.",
    policy_unknown: "Muutama toisiinsa liittymätön sana tekee vahvan salasanan; yleisiä salasanoja ei hyväksytä.",
    set_password: "Tallenna uusi salasana",
    too_short: "Salasana on liian lyhyt: käytä vähintään {n} merkkiä.",
    mismatch: "Salasanat eivät täsmää.",
    done: "Salasanasi on vaihdettu. Voit nyt kirjautua sisään uudella salasanallasi.",
    new_link: "Pyydä uusi linkki",
    email: "Sähköpostiosoite",
    send_link: "Lähetä linkki",
    forgot_intro: "Anna tilisi sähköpostiosoite, niin lähetämme sinulle linkin, jolla voit vaihtaa salasanasi.",
    forgot_sent: "Jos osoitteella on tili, uusi linkki on matkalla. Katso sähköpostisi.",
    invalid_email: "Sähköpostiosoite ei kelpaa.",
    token_invalid: "Linkki ei kelpaa. Se on ehkä korvattu uudemmalla.",
    token_expired: "Linkki on vanhentunut.",
    token_used: "Linkki on jo käytetty.",
    token_in_use: "Työskentelemme jo asian parissa: uutta salasanaasi tallennetaan. Odota hetki ja lataa sitten sivu uudelleen nähdäksesi tuloksen.",
    rate_limited: "Liian monta yritystä. Odota hetki ja yritä uudelleen.",
    unavailable: "Palvelu ei ole juuri nyt käytettävissä. Yritä hetken kuluttua uudelleen.",
    cross_site: "Lomake lähetettiin toiselta sivustolta, joten sitä ei hyväksytty. Käytä tämän sivun lomaketta.",
};
