"""The shop's own texts in English, German and French (the library's texts come translated already).

A small dictionary keeps the example free of a translation toolchain; a real shop would use gettext
(Flask-Babel) like the library does. Each entry is ``key: (English, German, French)`` with ``{named}``
placeholders; amounts and dates are formatted by the caller (Babel) before they are filled in.
"""

# ruff: noqa: E501 - a translation reads best on one line, beside its siblings
from __future__ import annotations

LANGUAGES = {"de_DE": "Deutsch", "en_GB": "English", "fr_FR": "Français"}
"""The shop's locales and how each names itself."""

_COLUMNS = {"en": 0, "de": 1, "fr": 2}

MESSAGES: dict[str, tuple[str, str, str]] = {
    # -- frame
    "shop.name": ("Demo Phone Shop", "Demo Phone Shop", "Demo Phone Shop"),
    "shop.footer": (
        "A reference shop for tradein-sdk. Prices are launch prices; quotes use the reference price model.",
        "Ein Referenz-Shop für tradein-sdk. Preise sind Einführungspreise; Angebote nutzen das Referenz-Preismodell.",
        "Une boutique de référence pour tradein-sdk. Prix de lancement ; les offres suivent le modèle de prix de référence.",
    ),
    "nav.label": ("Main", "Hauptmenü", "Menu principal"),
    "nav.language": ("Language", "Sprache", "Langue"),
    "nav.devices": ("New devices", "Neue Geräte", "Appareils neufs"),
    "nav.trade_in": ("Trade in", "Ankauf", "Reprise"),
    "nav.cart": ("Cart", "Warenkorb", "Panier"),
    "nav.orders": ("My orders", "Meine Bestellungen", "Mes commandes"),
    "nav.store": ("Store mode", "Filialmodus", "Mode boutique"),
    "nav.back_office": ("Back office", "Backoffice", "Back-office"),
    "error.title": ("Something went wrong", "Da ist etwas schiefgelaufen", "Une erreur est survenue"),
    "error.csrf": (
        "This form has expired or did not come from this shop. Please go back, reload the page and try again.",
        "Dieses Formular ist abgelaufen oder stammt nicht aus diesem Shop. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
        "Ce formulaire a expiré ou ne provient pas de cette boutique. Veuillez recharger la page et réessayer.",
    ),
    "error.not_found": (
        "This page does not exist.",
        "Diese Seite gibt es nicht.",
        "Cette page n’existe pas.",
    ),
    "error.bad_request": (
        "The request could not be understood.",
        "Die Anfrage konnte nicht verarbeitet werden.",
        "La demande n’a pas pu être traitée.",
    ),
    "error.home": ("To the shop", "Zum Shop", "Vers la boutique"),
    "api.bad_request": (
        'Send {"device_id": ..., "answers": {...}} as JSON.',
        'Senden Sie {"device_id": ..., "answers": {...}} als JSON.',
        'Envoyez {"device_id": ..., "answers": {...}} en JSON.',
    ),
    "category.smartphone": ("Phones", "Smartphones", "Smartphones"),
    "category.tablet": ("Tablets", "Tablets", "Tablettes"),
    "category.smartwatch": ("Watches", "Smartwatches", "Montres"),
    # -- home
    "home.title": ("New devices and trade-in", "Neue Geräte und Ankauf", "Appareils neufs et reprise"),
    "home.eyebrow": ("Trade in & upgrade", "Eintauschen & upgraden", "Reprise & nouvel appareil"),
    "home.headline": (
        "Your old phone pays for the new one",
        "Ihr altes Handy bezahlt das neue mit",
        "Votre ancien téléphone paie le nouveau",
    ),
    "home.lead": (
        "Answer a few questions, get an instant price, and take it off your new device at checkout.",
        "Ein paar Fragen beantworten, sofort den Preis sehen und ihn beim Kauf direkt abziehen.",
        "Répondez à quelques questions, obtenez un prix immédiat et déduisez-le de votre nouvel appareil.",
    ),
    "home.cta": ("Value my device", "Gerät bewerten", "Estimer mon appareil"),
    "home.step1": ("Find your device", "Gerät finden", "Trouvez votre appareil"),
    "home.step2": ("Describe its condition", "Zustand beschreiben", "Décrivez son état"),
    "home.step3": ("Save at checkout", "Beim Kauf sparen", "Économisez au paiement"),
    "home.hero_card_title": ("Instant quote", "Sofortpreis", "Prix immédiat"),
    "home.hero_card_text": (
        "itemized · valid 14 days",
        "nachvollziehbar · 14 Tage gültig",
        "détaillé · valable 14 jours",
    ),
    "home.devices": ("New devices", "Neue Geräte", "Appareils neufs"),
    "home.filter": ("Filter by category", "Nach Kategorie filtern", "Filtrer par catégorie"),
    "home.all": ("All", "Alle", "Tous"),
    "home.released": ("since {date}", "seit {date}", "depuis le {date}"),
    "home.choose": ("Choose", "Auswählen", "Choisir"),
    # -- trade-in
    "tradein.title": ("Trade in your device", "Altgerät eintauschen", "Faire reprendre votre appareil"),
    "tradein.progress": ("Trade-in steps", "Schritte des Ankaufs", "Étapes de la reprise"),
    "tradein.step_device": ("Device", "Gerät", "Appareil"),
    "tradein.step_storage": ("Storage", "Speicher", "Stockage"),
    "tradein.step_condition": ("Condition", "Zustand", "État"),
    "tradein.step_quote": ("Your price", "Ihr Preis", "Votre prix"),
    "tradein.search_heading": (
        "Which device do you want to trade in?",
        "Welches Gerät möchten Sie eintauschen?",
        "Quel appareil souhaitez-vous faire reprendre ?",
    ),
    "tradein.search_lead": (
        "Search {count} phones, tablets and watches by name; storage size helps.",
        "Durchsuchen Sie {count} Smartphones, Tablets und Uhren nach Namen; die Speichergröße hilft.",
        "Cherchez parmi {count} téléphones, tablettes et montres ; indiquez la capacité si vous la connaissez.",
    ),
    "tradein.search_label": ("Device", "Gerät", "Appareil"),
    "tradein.search_placeholder": (
        "e.g. iPhone 13 128 GB, Galaxy S23 Ultra",
        "z. B. iPhone 13 128 GB, Galaxy S23 Ultra",
        "p. ex. iPhone 13 128 Go, Galaxy S23 Ultra",
    ),
    "tradein.search_button": ("Search", "Suchen", "Rechercher"),
    "tradein.no_match": (
        "No device matches “{query}”.",
        "Kein Gerät passt zu „{query}“.",
        "Aucun appareil ne correspond à « {query} ».",
    ),
    "tradein.storage_lead": (
        "How much storage does it have? (Settings → General → About)",
        "Wie viel Speicher hat es? (Einstellungen → Allgemein → Info)",
        "Quelle est sa capacité ? (Réglages → Général → Informations)",
    ),
    "questionnaire.optional": ("optional", "optional", "facultatif"),
    "questionnaire.staff_check": ("staff check", "Prüfung durch Personal", "contrôle en boutique"),
    "questionnaire.none_hint": (
        "Tick nothing if none applies.",
        "Nichts ankreuzen, wenn nichts davon zutrifft.",
        "Ne cochez rien si rien ne s’applique.",
    ),
    "questionnaire.back": ("Back", "Zurück", "Retour"),
    "questionnaire.next": ("Next", "Weiter", "Suivant"),
    "questionnaire.get_quote": ("Show my price", "Preis anzeigen", "Voir mon prix"),
    "questionnaire.fix_errors": (
        "Some answers are missing or do not fit; see the marked questions.",
        "Einige Antworten fehlen oder passen nicht; siehe die markierten Fragen.",
        "Certaines réponses manquent ou ne conviennent pas ; voir les questions signalées.",
    ),
    # -- quote
    "quote.title": ("Your instant quote", "Ihr Sofortangebot", "Votre offre immédiate"),
    "quote.headline": ("We offer you", "Wir bieten Ihnen", "Nous vous proposons"),
    "quote.kind_estimate": ("Estimate", "Schätzung", "Estimation"),
    "quote.kind_guaranteed": ("Guaranteed", "Garantiert", "Garanti"),
    "quote.valid_until": ("valid until {date}", "gültig bis {date}", "valable jusqu’au {date}"),
    "quote.grade": ("Condition grade: {grade}", "Zustandsklasse: {grade}", "Classe d’état : {grade}"),
    "quote.add_to_cart": (
        "Use as credit on a new device",
        "Als Guthaben für ein neues Gerät nutzen",
        "Utiliser comme crédit sur un appareil neuf",
    ),
    "quote.in_cart": (
        "In your cart – go to cart",
        "Im Warenkorb – zum Warenkorb",
        "Dans votre panier – voir le panier",
    ),
    "quote.used": (
        "This quote has been used.",
        "Dieses Angebot wurde bereits eingelöst.",
        "Cette offre a déjà été utilisée.",
    ),
    "quote.estimate_note": (
        (
            "An estimate from your answers: we check the device when it arrives. If we find a difference, you "
            "may accept the new price or get the device back free of charge."
        ),
        (
            "Eine Schätzung nach Ihren Angaben: Wir prüfen das Gerät bei Eingang. Finden wir Abweichungen, "
            "können Sie den neuen Preis annehmen oder das Gerät kostenlos zurückerhalten."
        ),
        (
            "Une estimation selon vos réponses : nous vérifions l’appareil à réception. En cas d’écart, vous "
            "pouvez accepter le nouveau prix ou récupérer l’appareil gratuitement."
        ),
    ),
    "quote.guaranteed_note": (
        "Checked by our staff: this price is guaranteed.",
        "Von unserem Personal geprüft: Dieser Preis ist garantiert.",
        "Vérifié par notre équipe : ce prix est garanti.",
    ),
    "quote.recycle_title": (
        "We can recycle this device for free",
        "Wir recyceln dieses Gerät kostenlos",
        "Nous recyclons cet appareil gratuitement",
    ),
    "quote.recycle_lead": (
        "We cannot pay for it, for these reasons:",
        "Aus diesen Gründen können wir dafür nichts zahlen:",
        "Nous ne pouvons pas le racheter, pour ces raisons :",
    ),
    "quote.how": ("How your price is made", "So entsteht Ihr Preis", "Comment votre prix est calculé"),
    "quote.total": ("Your price", "Ihr Preis", "Votre prix"),
    "quote.your_answers": ("Your answers", "Ihre Angaben", "Vos réponses"),
    # -- cart
    "cart.title": ("Your cart", "Ihr Warenkorb", "Votre panier"),
    "cart.new_device": ("New device", "Neues Gerät", "Appareil neuf"),
    "cart.change_device": ("Choose another device", "Anderes Gerät wählen", "Choisir un autre appareil"),
    "cart.no_device": (
        "No new device chosen yet.",
        "Noch kein neues Gerät gewählt.",
        "Aucun appareil neuf choisi.",
    ),
    "cart.browse": ("Browse devices", "Geräte ansehen", "Voir les appareils"),
    "cart.trade_ins": ("Trade-in credit", "Ankaufsguthaben", "Crédit de reprise"),
    "cart.no_trade_in": ("No trade-in yet.", "Noch kein Altgerät.", "Aucune reprise pour l’instant."),
    "cart.add_trade_in": ("Trade in a device", "Altgerät eintauschen", "Faire reprendre un appareil"),
    "cart.remove": ("Remove", "Entfernen", "Retirer"),
    "cart.promotions": ("Promotions", "Aktionen", "Promotions"),
    "cart.summary": ("Summary", "Übersicht", "Récapitulatif"),
    "cart.checkout": ("Continue to checkout", "Weiter zur Kasse", "Passer à la caisse"),
    "cart.needs_both": (
        "Choose a new device and trade in your old one to see your price.",
        "Wählen Sie ein neues Gerät und tauschen Sie Ihr altes ein, um Ihren Preis zu sehen.",
        "Choisissez un appareil neuf et faites reprendre l’ancien pour voir votre prix.",
    ),
    "cart.device_added": (
        "{name} is in your cart.",
        "{name} liegt im Warenkorb.",
        "{name} est dans votre panier.",
    ),
    "cart.trade_in_added": (
        "Your trade-in credit is in the cart.",
        "Ihr Ankaufsguthaben liegt im Warenkorb.",
        "Votre crédit de reprise est dans le panier.",
    ),
    # -- checkout
    "checkout.title": ("Checkout", "Kasse", "Paiement"),
    "checkout.progress": ("Checkout steps", "Schritte der Bestellung", "Étapes de la commande"),
    "checkout.step_options": ("Options", "Optionen", "Options"),
    "checkout.step_review": ("Review", "Prüfen", "Vérifier"),
    "checkout.step_done": ("Done", "Fertig", "Terminé"),
    "checkout.incomplete": (
        "Choose a new device and add a trade-in first.",
        "Wählen Sie zuerst ein neues Gerät und fügen Sie ein Altgerät hinzu.",
        "Choisissez d’abord un appareil neuf et ajoutez une reprise.",
    ),
    "checkout.plan_heading": (
        "How would you like your trade-in value?",
        "Wie möchten Sie Ihren Ankaufswert erhalten?",
        "Comment souhaitez-vous recevoir la valeur de reprise ?",
    ),
    "plan.discount": ("Instant discount", "Sofortrabatt", "Remise immédiate"),
    "plan.discount_help": (
        "Taken off the price today; charged back if the device is not sent or differs.",
        "Wird heute vom Preis abgezogen; wird zurückgefordert, wenn das Gerät nicht kommt oder abweicht.",
        "Déduite aujourd’hui ; refacturée si l’appareil n’est pas envoyé ou diffère.",
    ),
    "plan.voucher": ("Shop voucher after inspection", "Gutschein nach Prüfung", "Bon d’achat après contrôle"),
    "plan.voucher_help": (
        "A voucher for this shop once we have checked your device.",
        "Ein Gutschein für diesen Shop, sobald wir Ihr Gerät geprüft haben.",
        "Un bon pour cette boutique après le contrôle de votre appareil.",
    ),
    "plan.payout": ("Bank transfer after inspection", "Überweisung nach Prüfung", "Virement après contrôle"),
    "plan.payout_help": (
        "Paid to your account once we have checked your device.",
        "Auf Ihr Konto, sobald wir Ihr Gerät geprüft haben.",
        "Versé sur votre compte après le contrôle de votre appareil.",
    ),
    "checkout.protection_heading": (
        "Protect your {device}",
        "Schützen Sie Ihr {device}",
        "Protégez votre {device}",
    ),
    "checkout.protection_lead": (
        "Optional. Choose a plan or decline; prices include insurance premium tax.",
        "Freiwillig. Wählen Sie einen Tarif oder lehnen Sie ab; Preise inklusive Versicherungsteuer.",
        "Facultatif. Choisissez une formule ou refusez ; prix taxe d’assurance incluse.",
    ),
    "checkout.per_month": ("{amount} per month", "{amount} monatlich", "{amount} par mois"),
    "checkout.tax_included": (
        "incl. {tax} insurance premium tax ({rate} %)",
        "inkl. {tax} Versicherungsteuer ({rate} %)",
        "dont {tax} de taxe sur les assurances ({rate} %)",
    ),
    "checkout.bundle": (
        "{amount} off with your trade-in",
        "{amount} Rabatt mit Ihrem Ankauf",
        "{amount} de remise avec votre reprise",
    ),
    "checkout.ipid": (
        "Insurance product information (IPID)",
        "Informationsblatt zu Versicherungsprodukten (IPID)",
        "Document d’information sur le produit d’assurance (IPID)",
    ),
    "checkout.terms": ("Terms and conditions", "Versicherungsbedingungen", "Conditions générales"),
    "checkout.decline": ("No protection", "Kein Geräteschutz", "Pas de protection"),
    "checkout.decline_help": (
        "You can buy the device without insurance.",
        "Sie können das Gerät auch ohne Versicherung kaufen.",
        "Vous pouvez acheter l’appareil sans assurance.",
    ),
    "checkout.choose_protection": (
        "Please choose how you want your trade-in value and whether to protect your device.",
        "Bitte wählen Sie, wie Sie Ihren Ankaufswert erhalten möchten und ob Sie Ihr Gerät schützen wollen.",
        "Veuillez choisir comment recevoir la valeur de reprise et si vous protégez votre appareil.",
    ),
    "checkout.continue": ("Continue", "Weiter", "Continuer"),
    "checkout.review_title": ("Check your order", "Bestellung prüfen", "Vérifiez votre commande"),
    "checkout.due_now": ("Due today", "Heute zu zahlen", "À payer aujourd’hui"),
    "checkout.monthly": ("Each month", "Monatlich", "Chaque mois"),
    "checkout.change": ("Change", "Ändern", "Modifier"),
    "checkout.clawback_heading": (
        "Your trade-in: what you agree to",
        "Ihr Ankauf: Das vereinbaren Sie",
        "Votre reprise : ce que vous acceptez",
    ),
    "checkout.protection_chosen": ("Your device protection", "Ihr Geräteschutz", "Votre protection"),
    "checkout.consent": (
        "I have read the product information and want {plan}.",
        "Ich habe das Informationsblatt gelesen und möchte {plan} abschließen.",
        "J’ai lu le document d’information et je souscris {plan}.",
    ),
    "checkout.consent_needed": (
        "Please tick the box to take out the protection, or go back and choose no protection.",
        "Bitte setzen Sie das Häkchen für den Geräteschutz oder wählen Sie „Kein Geräteschutz“.",
        "Veuillez cocher la case pour souscrire la protection, ou choisissez « Pas de protection ».",
    ),
    "checkout.your_details": ("Your details", "Ihre Angaben", "Vos coordonnées"),
    "checkout.name": ("Name", "Name", "Nom"),
    "checkout.email": ("E-mail", "E-Mail", "E-mail"),
    "checkout.bank_heading": (
        "Bank account for the payout",
        "Bankkonto für die Auszahlung",
        "Compte pour le virement",
    ),
    "checkout.holder": ("Account holder", "Kontoinhaber", "Titulaire du compte"),
    "checkout.iban": ("IBAN", "IBAN", "IBAN"),
    "checkout.confirm": (
        "Buy now · {amount}",
        "Zahlungspflichtig bestellen · {amount}",
        "Commander · {amount}",
    ),
    "checkout.confirm_note": (
        "Every amount is computed again when you confirm.",
        "Alle Beträge werden bei der Bestellung neu berechnet.",
        "Tous les montants sont recalculés à la confirmation.",
    ),
    "checkout.changed": (
        "Your order changed since you saw it (a price, a promotion or a choice). Please check it again.",
        "Ihre Bestellung hat sich geändert (ein Preis, eine Aktion oder eine Auswahl). Bitte prüfen Sie sie erneut.",
        "Votre commande a changé (un prix, une promotion ou un choix). Veuillez la vérifier à nouveau.",
    ),
    "checkout.thanks": (
        "Thank you! Print the label and send your old device.",
        "Vielen Dank! Drucken Sie das Etikett und senden Sie Ihr Altgerät ein.",
        "Merci ! Imprimez l’étiquette et envoyez votre ancien appareil.",
    ),
    # -- orders
    "orders.title": ("My orders", "Meine Bestellungen", "Mes commandes"),
    "orders.none": ("No orders yet.", "Noch keine Bestellungen.", "Aucune commande pour l’instant."),
    "order.title": ("Your trade-in", "Ihr Ankauf", "Votre reprise"),
    "order.reference": ("Order", "Bestellung", "Commande"),
    "order.placed": ("Placed {date}", "Aufgegeben am {date}", "Passée le {date}"),
    "order.print_label": ("Print shipping label", "Versandetikett drucken", "Imprimer l’étiquette"),
    "order.timeline": ("Status", "Status", "Statut"),
    "order.quoted": ("Quoted", "Angeboten", "Offre"),
    "order.offer": ("Offer", "Angebot", "Montant retenu"),
    "order.send_by": ("Send by", "Einsenden bis", "À envoyer avant le"),
    "order.respond_by": ("Answer by", "Antwort bis", "Répondre avant le"),
    "order.settled": ("Paid out", "Ausgezahlt", "Versé"),
    "order.i_shipped": (
        "I have handed over the parcel",
        "Ich habe das Paket abgegeben",
        "J’ai déposé le colis",
    ),
    "order.shipped_thanks": (
        "Thanks! We will tell you when it arrives.",
        "Danke! Wir melden uns, wenn es angekommen ist.",
        "Merci ! Nous vous préviendrons à son arrivée.",
    ),
    "order.why_revised": ("What we found", "Was wir festgestellt haben", "Ce que nous avons constaté"),
    "order.accept_revision": ("Accept {amount}", "{amount} annehmen", "Accepter {amount}"),
    "order.decline_revision": (
        "Decline and get my device back",
        "Ablehnen und Gerät zurückerhalten",
        "Refuser et récupérer mon appareil",
    ),
    "order.revision_accepted": (
        "You accepted the new offer.",
        "Sie haben das neue Angebot angenommen.",
        "Vous avez accepté la nouvelle offre.",
    ),
    "order.revision_declined": (
        "You declined; your device is on its way back to you, free of charge.",
        "Sie haben abgelehnt; Ihr Gerät wird Ihnen kostenlos zurückgeschickt.",
        "Vous avez refusé ; votre appareil vous est renvoyé gratuitement.",
    ),
    "order.clawback_due": (
        "Charged back under the trade-in terms: {amount}",
        "Nach den Ankaufsbedingungen zurückgefordert: {amount}",
        "Refacturé selon les conditions de reprise : {amount}",
    ),
    "report.question": ("Question", "Frage", "Question"),
    "report.declared": ("You said", "Ihre Angabe", "Votre réponse"),
    "report.found": ("We found", "Festgestellt", "Constaté"),
    "report.impact": ("Effect", "Auswirkung", "Effet"),
    "report.revised_offer": ("New offer", "Neues Angebot", "Nouvelle offre"),
    # -- device states and who acted
    "state.accepted": ("Order placed", "Bestellt", "Commande passée"),
    "state.awaiting_shipment": ("Label issued", "Etikett erstellt", "Étiquette émise"),
    "state.in_transit": ("On its way", "Unterwegs", "En route"),
    "state.expired": ("Not sent in time", "Nicht rechtzeitig eingesandt", "Non envoyé à temps"),
    "state.cancelled": ("Cancelled", "Storniert", "Annulé"),
    "state.received": ("Arrived", "Eingegangen", "Reçu"),
    "state.on_hold": ("On hold", "Angehalten", "En attente"),
    "state.released": ("Released", "Freigegeben", "Libéré"),
    "state.inspected": ("Inspected", "Geprüft", "Contrôlé"),
    "state.confirmed": ("Price confirmed", "Preis bestätigt", "Prix confirmé"),
    "state.revised": ("New offer", "Neues Angebot", "Nouvelle offre"),
    "state.mismatch": ("Does not match", "Stimmt nicht überein", "Non conforme"),
    "state.revision_accepted": ("New offer accepted", "Neues Angebot angenommen", "Nouvelle offre acceptée"),
    "state.revision_declined": ("New offer declined", "Neues Angebot abgelehnt", "Nouvelle offre refusée"),
    "state.surrendered": ("Surrendered", "Übergeben", "Remis"),
    "state.returning": ("Returning to you", "Rücksendung an Sie", "Retour en cours"),
    "state.returned": ("Returned", "Zurückgesandt", "Retourné"),
    "state.paid": ("Paid", "Bezahlt", "Payé"),
    "state.credited": ("Credited", "Gutgeschrieben", "Crédité"),
    "state.recycled": ("Recycled", "Recycelt", "Recyclé"),
    "state.disposed": ("Processed", "Verwertet", "Traité"),
    "next.accepted": (
        "We are preparing your label.",
        "Wir bereiten Ihr Etikett vor.",
        "Nous préparons votre étiquette.",
    ),
    "next.awaiting_shipment": (
        "Print the label, pack your device and hand it over before the deadline.",
        "Drucken Sie das Etikett, verpacken Sie Ihr Gerät und geben Sie es vor Ablauf der Frist ab.",
        "Imprimez l’étiquette, emballez l’appareil et déposez-le avant la date limite.",
    ),
    "next.in_transit": (
        "Your parcel is on its way to us.",
        "Ihr Paket ist zu uns unterwegs.",
        "Votre colis est en route.",
    ),
    "next.expired": (
        "The deadline passed before we received the device.",
        "Die Frist ist abgelaufen, bevor das Gerät bei uns ankam.",
        "Le délai a expiré avant la réception de l’appareil.",
    ),
    "next.cancelled": (
        "This trade-in is cancelled.",
        "Dieser Ankauf ist storniert.",
        "Cette reprise est annulée.",
    ),
    "next.received": (
        "It arrived; we are checking it now.",
        "Es ist angekommen; wir prüfen es gerade.",
        "Il est arrivé ; nous le contrôlons.",
    ),
    "next.on_hold": (
        "We need to clarify something.",
        "Wir müssen etwas klären.",
        "Nous devons vérifier un point.",
    ),
    "next.released": ("We are checking it now.", "Wir prüfen es gerade.", "Nous le contrôlons."),
    "next.inspected": ("Inspection done.", "Prüfung abgeschlossen.", "Contrôle terminé."),
    "next.confirmed": (
        "Your price is confirmed; the payment is on its way.",
        "Ihr Preis ist bestätigt; die Zahlung ist unterwegs.",
        "Votre prix est confirmé ; le paiement est en cours.",
    ),
    "next.revised": (
        "We found differences. Accept the new offer or get your device back for free.",
        "Wir haben Abweichungen festgestellt. Nehmen Sie das neue Angebot an oder erhalten Sie Ihr Gerät kostenlos zurück.",
        "Nous avons constaté des écarts. Acceptez la nouvelle offre ou récupérez votre appareil gratuitement.",
    ),
    "next.mismatch": (
        "The device does not match your order.",
        "Das Gerät passt nicht zu Ihrer Bestellung.",
        "L’appareil ne correspond pas à votre commande.",
    ),
    "next.revision_accepted": (
        "Thanks; the payment is on its way.",
        "Danke; die Zahlung ist unterwegs.",
        "Merci ; le paiement est en cours.",
    ),
    "next.revision_declined": (
        "We will send your device back.",
        "Wir senden Ihr Gerät zurück.",
        "Nous vous renvoyons votre appareil.",
    ),
    "next.surrendered": ("Handed to the authorities.", "An die Behörden übergeben.", "Remis aux autorités."),
    "next.returning": (
        "Your device is on its way back to you, free of charge.",
        "Ihr Gerät ist kostenlos auf dem Rückweg zu Ihnen.",
        "Votre appareil vous est renvoyé gratuitement.",
    ),
    "next.returned": (
        "Your device was returned.",
        "Ihr Gerät wurde zurückgesandt.",
        "Votre appareil a été retourné.",
    ),
    "next.paid": ("Paid. Thank you!", "Bezahlt. Vielen Dank!", "Payé. Merci !"),
    "next.credited": ("Credited. Thank you!", "Gutgeschrieben. Vielen Dank!", "Crédité. Merci !"),
    "next.recycled": ("Recycled free of charge.", "Kostenlos recycelt.", "Recyclé gratuitement."),
    "next.disposed": ("Done. Thank you!", "Erledigt. Vielen Dank!", "Terminé. Merci !"),
    "actor.shopper": ("you", "Sie", "vous"),
    "actor.staff": ("our team", "unser Team", "notre équipe"),
    "actor.provider": ("carrier", "Versanddienst", "transporteur"),
    "actor.system": ("automatic", "automatisch", "automatique"),
    # -- back office
    "staff.login_title": ("Back office sign-in", "Backoffice-Anmeldung", "Connexion au back-office"),
    "staff.password": ("Password", "Passwort", "Mot de passe"),
    "staff.login": ("Sign in", "Anmelden", "Se connecter"),
    "staff.logout": ("Sign out", "Abmelden", "Se déconnecter"),
    "staff.demo_password": (
        "Demo password: demo (set TRADEIN_STAFF_PASSWORD).",
        "Demo-Passwort: demo (TRADEIN_STAFF_PASSWORD setzen).",
        "Mot de passe de démo : demo (définir TRADEIN_STAFF_PASSWORD).",
    ),
    "staff.wrong_password": ("Wrong password.", "Falsches Passwort.", "Mot de passe incorrect."),
    "staff.orders": ("Orders", "Bestellungen", "Commandes"),
    "staff.incoming": ("Incoming devices", "Eingehende Geräte", "Appareils entrants"),
    "staff.nothing_incoming": ("Nothing to inspect.", "Nichts zu prüfen.", "Rien à contrôler."),
    "staff.open": ("Open", "Öffnen", "Ouvrir"),
    "staff.filter_state": ("State", "Status", "Statut"),
    "staff.created": ("Created", "Erstellt", "Créée"),
    "staff.devices": ("Devices", "Geräte", "Appareils"),
    "staff.no_orders": ("No orders.", "Keine Bestellungen.", "Aucune commande."),
    "staff.tick": ("Apply deadlines", "Fristen anwenden", "Appliquer les délais"),
    "staff.ticked": (
        "{count} order(s) changed.",
        "{count} Bestellung(en) geändert.",
        "{count} commande(s) modifiée(s).",
    ),
    "staff.audit": ("Audit log", "Audit-Protokoll", "Journal d’audit"),
    "staff.audit_ok": (
        "The audit chain is intact: {count} entries verified.",
        "Die Audit-Kette ist intakt: {count} Einträge geprüft.",
        "La chaîne d’audit est intacte : {count} entrées vérifiées.",
    ),
    "staff.audit_bad": (
        "The audit chain is broken: {count} problem(s).",
        "Die Audit-Kette ist beschädigt: {count} Problem(e).",
        "La chaîne d’audit est rompue : {count} problème(s).",
    ),
    "staff.audit_head": (
        "Head: #{sequence} {hash}",
        "Kopf: #{sequence} {hash}",
        "Tête : n° {sequence} {hash}",
    ),
    "staff.shopper_view": ("Shopper's view", "Kundenansicht", "Vue client"),
    "staff.action_receive": ("Mark received", "Als eingegangen markieren", "Marquer comme reçu"),
    "staff.action_settle": ("Pay out", "Auszahlen", "Payer"),
    "staff.action_returned": ("Mark returned", "Als zurückgesandt markieren", "Marquer comme retourné"),
    "staff.done_receive": ("Marked as received.", "Als eingegangen markiert.", "Marqué comme reçu."),
    "staff.done_settle": ("Paid out.", "Ausgezahlt.", "Payé."),
    "staff.done_returned": ("Marked as returned.", "Als zurückgesandt markiert.", "Marqué comme retourné."),
    "staff.inspect": ("Inspect", "Prüfen", "Contrôler"),
    "staff.inspect_lead": (
        (
            "Answer what you find. The shopper's answers are filled in and shown beside each question; the "
            "quote was {amount}."
        ),
        (
            "Erfassen Sie, was Sie feststellen. Die Angaben des Kunden sind vorausgefüllt und stehen bei jeder "
            "Frage; das Angebot war {amount}."
        ),
        (
            "Indiquez ce que vous constatez. Les réponses du client sont préremplies et affichées à côté de "
            "chaque question ; l’offre était de {amount}."
        ),
    ),
    "staff.declared": ("Shopper said", "Kunde gab an", "Le client a indiqué"),
    "staff.not_declared": ("—", "—", "—"),
    "staff.imei_read": ("IMEI read from the device", "IMEI vom Gerät", "IMEI lu sur l’appareil"),
    "staff.record_inspection": ("Record inspection", "Prüfung speichern", "Enregistrer le contrôle"),
    "staff.inspected": (
        "Inspection recorded; offer {offer}.",
        "Prüfung gespeichert; Angebot {offer}.",
        "Contrôle enregistré ; offre {offer}.",
    ),
    "staff.inspection_report": ("Inspection", "Prüfung", "Contrôle"),
    "staff.history": ("History", "Verlauf", "Historique"),
    # -- store mode
    "store.title": ("Trade-in at the counter", "Ankauf am Schalter", "Reprise au comptoir"),
    "store.eyebrow": ("Store mode", "Filialmodus", "Mode boutique"),
    "store.imei": (
        "IMEI (type or scan; *#06#)",
        "IMEI (eingeben oder scannen; *#06#)",
        "IMEI (saisir ou scanner ; *#06#)",
    ),
    "store.model": ("Model", "Modell", "Modèle"),
    "store.find": (
        "Check IMEI and find model",
        "IMEI prüfen und Modell suchen",
        "Vérifier l’IMEI et trouver le modèle",
    ),
    "store.imei_ok": ("IMEI {imei} is valid.", "IMEI {imei} ist gültig.", "L’IMEI {imei} est valide."),
    "store.help": (
        "Verify the device with the customer: every check is answered by you, so the quote is guaranteed.",
        "Prüfen Sie das Gerät mit dem Kunden: Sie beantworten jede Prüfung, daher ist das Angebot garantiert.",
        "Vérifiez l’appareil avec le client : vous répondez à chaque contrôle, l’offre est donc garantie.",
    ),
    "store.check_title": ("Check the device", "Gerät prüfen", "Contrôler l’appareil"),
    "store.check_lead": (
        "Go through each point with the customer.",
        "Gehen Sie jeden Punkt mit dem Kunden durch.",
        "Passez chaque point en revue avec le client.",
    ),
    "store.get_quote": ("Get guaranteed quote", "Garantiertes Angebot erstellen", "Obtenir l’offre garantie"),
    "store.quote_title": ("Guaranteed quote", "Garantiertes Angebot", "Offre garantie"),
    "store.apply": (
        "Apply {amount} at the counter",
        "{amount} am Schalter anrechnen",
        "Appliquer {amount} au comptoir",
    ),
    "store.applied": (
        "Applied; order {order}.",
        "Angerechnet; Bestellung {order}.",
        "Appliqué ; commande {order}.",
    ),
    "store.done": (
        "Credit applied and device received.",
        "Guthaben angerechnet und Gerät übernommen.",
        "Crédit appliqué et appareil repris.",
    ),
    "store.next_customer": ("Next customer", "Nächster Kunde", "Client suivant"),
}


def translate(key: str, locale: str, **params: object) -> str:
    """The text ``key`` in ``locale``'s language (English when the language is not one of the three).

    Raises:
        KeyError: the shop has no text with that key.
    """
    text = MESSAGES[key][_COLUMNS.get(locale[:2], 0)]
    return text.format(**params) if params else text
