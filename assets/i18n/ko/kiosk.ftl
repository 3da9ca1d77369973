# Kiosk texts: Korean.

app-title = 세관 전자신고 게이트

## Step header
progress-welcome = 환영
progress-passport = 여권
progress-declaration = 세관 신고
progress-face = 얼굴 사진
progress-result = 결과
progress-gate = 게이트
progress-done = 완료
progress-current = 현재

## Welcome
welcome-title = 환영합니다
welcome-instruction = 언어를 선택한 후 '시작'을 눌러 주십시오.
welcome-choose-language = 언어
welcome-start = 시작

## Passport (IC chip)
passport-title = 여권
passport-instruction = 사진면이 아래를 향하도록 여권을 판독기 위에 올려 주십시오.

## Customs declaration (QR code)
declaration-title = 세관 신고
declaration-instruction = 세관 신고 앱의 QR 코드를 스캐너에 대 주십시오.

## Face photo
face-title = 얼굴 사진
face-instruction = 카메라를 봐 주십시오. 마스크와 선글라스를 벗어 주십시오.

## Result
result-title = 결과
result-instruction = 확인 중입니다. 잠시만 기다려 주십시오.
result-checking = 확인 중입니다. 잠시만 기다려 주십시오.
result-green-title = 전자신고 게이트로 이동해 주십시오
result-green-instruction = 세관 확인이 완료되었습니다. 감사합니다.
result-referral-title = 유인 검사대로 가 주십시오
result-referral-instruction = 세관 직원이 안내해 드리겠습니다.
result-reasons-heading = 사유:

## e-Gate
gate-title = 전자신고 게이트
gate-instruction = 전자신고 게이트를 통과해 주십시오.
gate-open = 게이트가 열렸습니다. 통과해 주십시오.
gate-completed = 감사합니다. 즐거운 체류 되십시오.
gate-timeout = 게이트가 닫혔습니다. 직원에게 문의해 주십시오.
gate-alarm = 멈춰 주십시오. 직원이 곧 도와드리겠습니다.
gate-unavailable = 지금은 게이트를 이용할 수 없습니다. 유인 검사대로 가 주십시오.

## Step failures (StepOutcome::Failed code)
error-chip-unreadable = 여권 칩을 읽을 수 없습니다. 여권을 다시 올려 주십시오.
error-qr-invalid = 이 QR 코드는 사용할 수 없습니다. 세관 신고 앱의 QR 코드를 보여 주십시오.
error-qr-not-yours = 이 QR 코드는 다른 여권의 것입니다. 본인 신고의 QR 코드를 보여 주십시오.
error-face-not-matched = 얼굴과 여권 사진을 대조할 수 없습니다. 카메라를 정면으로 봐 주십시오.
error-camera-unavailable = 카메라를 사용할 수 없습니다. 직원에게 문의해 주십시오.
error-reader-unavailable = 여권 판독기를 사용할 수 없습니다. 직원에게 문의해 주십시오.
error-other = 문제가 발생했습니다. 직원에게 문의해 주십시오.

## Referral reasons (ReasonCode)
reason-prohibited-articles = 반입 금지 또는 제한 물품을 신고하셨습니다.
reason-over-allowance = 면세 한도를 초과하는 물품을 신고하셨습니다.
reason-commercial-goods = 상업용 물품 또는 견본품을 신고하셨습니다.
reason-carried-for-others = 다른 사람에게서 부탁받은 물품을 신고하셨습니다.
reason-cash-or-gold = 100만 엔을 초과하는 현금·유가증권 또는 1kg을 초과하는 금을 신고하셨습니다.
reason-unaccompanied-articles = 별송품을 신고하셨습니다.
reason-face-mismatch = 얼굴과 여권 사진을 대조할 수 없었습니다.
reason-presentation-attack-suspected = 카메라 앞에 실제 본인이 있는지 확인할 수 없었습니다(사진이나 화면이 비쳤을 수 있습니다).
reason-face-not-captured = 얼굴 사진을 촬영할 수 없었습니다.
reason-document-expired = 여권의 유효기간이 만료되었습니다.
reason-document-inconsistent = 여권 정보를 확인할 수 없었습니다.
reason-chip-unreadable = 여권 칩을 읽을 수 없었습니다.
reason-document-not-authentic = 여권의 전자 서명을 확인할 수 없습니다.
reason-chip-not-genuine = 여권 칩이 진본인지 확인할 수 없습니다.
reason-declaration-holder-mismatch = 신고서가 다른 여권의 것입니다.
reason-declaration-invalid = 신고 QR 코드가 유효하지 않습니다.
reason-random-selection = 무작위 검사 대상으로 선정되었습니다.
# Same text as random selection: the passenger must not learn of the watch list.
reason-watch-list = { reason-random-selection }

## Step time limits, cancel, timeout (lane::control)
control-cancel = 뒤로 / 취소
countdown-label = 남은 시간
countdown-unit = 초
timeout-title = 시간이 초과되었습니다
timeout-instruction = 제한 시간 안에 단계를 마치지 못했습니다. "다시 시도"를 눌러 다시 시작하거나 유인 검사대로 가 주십시오.
timeout-retry = 다시 시도
welcome-cancelled = 검사가 취소되었습니다. 언제든지 다시 시작할 수 있습니다.
error-document-unknown = 이 서류는 여기에서 읽을 수 없습니다. 전자여권(IC 칩)을 사진 면이 아래로 가게 판독기에 올려 주십시오.
error-timed-out = 이 단계의 시간이 초과되었습니다.
error-cancelled = 검사가 취소되었습니다.

## Capture guidance (lane::events::guidance)
preview-label = 카메라
hint-look-at-camera = 카메라를 똑바로 봐 주십시오.
hint-come-closer = 조금 더 가까이 와 주십시오.
hint-remove-sunglasses = 선글라스나 마스크를 벗어 주십시오.
hint-one-person = 카메라 앞에는 한 분만 서 주십시오.
hint-more-light = 너무 어둡습니다. 밝은 쪽을 봐 주십시오.
hint-hold-still = 움직이지 말고 잠시 기다려 주십시오.
hint-hold-qr-steady = QR 코드를 틀 안에서 흔들리지 않게 들어 주십시오.
hint-too-bright = 너무 밝습니다. 강한 빛을 피해 서 주십시오.
hint-stop-and-look = 잠시 멈춰 서서 게이트의 카메라를 봐 주십시오.
