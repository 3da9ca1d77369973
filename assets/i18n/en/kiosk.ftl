# Kiosk texts: English (the fallback language).
# Every key must exist in every language (checked by kiosk::i18n tests).

app-title = Customs e-Gate

## Step header
progress-welcome = Welcome
progress-passport = Passport
progress-declaration = Declaration
progress-face = Face photo
progress-result = Result
progress-gate = e-Gate
progress-done = done
progress-current = now

## Welcome
welcome-title = Welcome
welcome-instruction = Please choose your language, then touch Start.
welcome-choose-language = Language
welcome-start = Start

## Passport (IC chip)
passport-title = Passport
passport-instruction = Please place your passport on the reader, photo page down.

## Customs declaration (QR code)
declaration-title = Customs declaration
declaration-instruction = Please show the QR code of the customs declaration app to the scanner.

## Face photo
face-title = Face photo
face-instruction = Please look at the camera. Please remove your mask and sunglasses.

## Result
result-title = Result
result-instruction = Checking. Please wait a moment.
result-checking = Checking. Please wait a moment.
result-green-title = Please proceed to the e-Gate
result-green-instruction = Your customs check is complete. Thank you.
result-referral-title = Please go to the staffed inspection desk
result-referral-instruction = A customs officer will help you there.
result-reasons-heading = Reason:

## e-Gate
gate-title = e-Gate
gate-instruction = Please walk through the e-Gate.
gate-open = The gate is open. Please walk through now.
gate-completed = Thank you. Enjoy your stay.
gate-timeout = The gate has closed. Please ask a staff member for help.
gate-alarm = Please stop. A staff member will come to help you.
gate-unavailable = The gate is not available. Please go to the staffed inspection desk.

## Step failures (StepOutcome::Failed code)
error-chip-unreadable = The passport chip could not be read. Please place your passport on the reader again.
error-qr-invalid = This QR code cannot be used. Please show the QR code from the customs declaration app.
error-qr-not-yours = This QR code belongs to another passport. Please show the QR code of your own declaration.
error-face-not-matched = Your face could not be matched with your passport. Please look straight at the camera.
error-camera-unavailable = The camera is not available. Please ask a staff member for help.
error-reader-unavailable = The passport reader is not available. Please ask a staff member for help.
error-other = Something went wrong. Please ask a staff member for help.

## Referral reasons (ReasonCode)
reason-prohibited-articles = You declared prohibited or restricted articles.
reason-over-allowance = You declared goods over the duty-free allowance.
reason-commercial-goods = You declared commercial goods or samples.
reason-carried-for-others = You declared items carried for another person.
reason-cash-or-gold = You declared cash or securities over 1,000,000 yen, or gold over 1 kg.
reason-unaccompanied-articles = You declared unaccompanied articles (goods sent separately).
reason-face-mismatch = Your face could not be matched with the passport photo.
reason-presentation-attack-suspected = The camera could not confirm that a live person was in front of it (for example, a photo or a screen was shown).
reason-face-not-captured = Your face photo could not be taken.
reason-document-expired = Your passport has expired.
reason-document-inconsistent = The passport data could not be confirmed.
reason-chip-unreadable = The passport chip could not be read.
reason-document-not-authentic = The passport's electronic signature could not be verified.
reason-chip-not-genuine = The passport chip could not be verified as genuine.
reason-declaration-holder-mismatch = The declaration belongs to a different passport.
reason-declaration-invalid = The declaration QR code is not valid.
reason-random-selection = You have been selected for a routine check.
# Same text as random selection: the passenger must not learn of the watch list.
reason-watch-list = { reason-random-selection }

## Step time limits, cancel, timeout (lane::control)
control-cancel = Back / Cancel
countdown-label = Time left
countdown-unit = s
timeout-title = Time is up
timeout-instruction = The step was not finished in time. Please touch "Try again" to start again, or go to the staffed inspection desk.
timeout-retry = Try again
welcome-cancelled = Your check was cancelled. You can start again at any time.
error-document-unknown = This document cannot be read here. Please place your passport (with an IC chip) on the reader, photo page down.
error-timed-out = The time for this step is up.
error-cancelled = Your check was cancelled.

## Capture guidance (lane::events::guidance)
preview-label = Camera
hint-look-at-camera = Please look straight at the camera.
hint-come-closer = Please come a little closer.
hint-remove-sunglasses = Please remove your sunglasses or mask.
hint-one-person = Only one person in front of the camera, please.
hint-more-light = It is too dark. Please face the light.
hint-hold-still = Please hold still.
hint-hold-qr-steady = Please hold the QR code steady in the frame.
hint-too-bright = The light is too bright. Please step out of direct light.
hint-stop-and-look = Please stop for a moment and look at the camera on the gate.
