# Kiosk texts: Traditional Chinese.

app-title = 海關 電子申報閘門

## Step header
progress-welcome = 歡迎
progress-passport = 護照
progress-declaration = 海關申報
progress-face = 臉部照片
progress-result = 結果
progress-gate = 閘門
progress-done = 完成
progress-current = 目前

## Welcome
welcome-title = 歡迎
welcome-instruction = 請選擇語言，然後輕觸「開始」。
welcome-choose-language = 語言
welcome-start = 開始

## Passport (IC chip)
passport-title = 護照
passport-instruction = 請將護照照片頁朝下，放在讀取器上。

## Customs declaration (QR code)
declaration-title = 海關申報
declaration-instruction = 請將海關申報應用程式中的QR碼對準掃描器。

## Face photo
face-title = 臉部照片
face-instruction = 請看向攝影機。請摘下口罩和太陽眼鏡。

## Result
result-title = 結果
result-instruction = 正在確認，請稍候。
result-checking = 正在確認，請稍候。
result-green-title = 請前往電子申報閘門
result-green-instruction = 海關檢查已完成。謝謝您的配合。
result-referral-title = 請前往人工檢查櫃檯
result-referral-instruction = 海關人員將為您服務。
result-reasons-heading = 原因：

## e-Gate
gate-title = 電子申報閘門
gate-instruction = 請通過電子申報閘門。
gate-open = 閘門已開啟，請通過。
gate-completed = 謝謝。祝您在日本旅途愉快。
gate-timeout = 閘門已關閉。請洽詢工作人員。
gate-alarm = 請停下。工作人員馬上過來協助您。
gate-unavailable = 閘門暫時無法使用。請前往人工檢查櫃檯。

## Step failures (StepOutcome::Failed code)
error-chip-unreadable = 無法讀取護照晶片。請重新放置護照。
error-qr-invalid = 此QR碼無法使用。請出示海關申報應用程式中的QR碼。
error-qr-not-yours = 此QR碼屬於另一本護照。請出示您本人申報的QR碼。
error-face-not-matched = 無法將您的臉部與護照照片進行比對。請正視攝影機。
error-camera-unavailable = 攝影機無法使用。請洽詢工作人員。
error-reader-unavailable = 護照讀取器無法使用。請洽詢工作人員。
error-other = 發生問題。請洽詢工作人員。

## Referral reasons (ReasonCode)
reason-prohibited-articles = 您申報了禁止或限制進口的物品。
reason-over-allowance = 您申報了超過免稅額度的物品。
reason-commercial-goods = 您申報了商業貨物或樣品。
reason-carried-for-others = 您申報了替他人攜帶的物品。
reason-cash-or-gold = 您申報了超過100萬日圓的現金或有價證券，或超過1公斤的黃金。
reason-unaccompanied-articles = 您申報了另外寄送的物品（後送行李）。
reason-face-mismatch = 無法將您的臉部與護照照片比對一致。
reason-presentation-attack-suspected = 攝影機無法確認鏡頭前是您本人（可能出示了照片或螢幕）。
reason-face-not-captured = 未能拍攝到您的臉部照片。
reason-document-expired = 您的護照已過期。
reason-document-inconsistent = 無法確認護照資料。
reason-chip-unreadable = 無法讀取護照晶片。
reason-document-not-authentic = 無法驗證護照的電子簽章。
reason-chip-not-genuine = 無法確認護照晶片為真。
reason-declaration-holder-mismatch = 此申報屬於另一本護照。
reason-declaration-invalid = 申報QR碼無效。
reason-random-selection = 您被隨機選中接受檢查。
# Same text as random selection: the passenger must not learn of the watch list.
reason-watch-list = { reason-random-selection }

## Step time limits, cancel, timeout (lane::control)
control-cancel = 返回 / 取消
countdown-label = 剩餘時間
countdown-unit = 秒
timeout-title = 時間已到
timeout-instruction = 此步驟未能在規定時間內完成。請觸碰「重試」重新開始，或前往有人服務的檢查台。
timeout-retry = 重試
welcome-cancelled = 您的檢查已取消。您可以隨時重新開始。
error-document-unknown = 此處無法讀取該證件。請將您的電子護照（含IC晶片）照片頁朝下放在讀取器上。
error-timed-out = 此步驟的時間已到。
error-cancelled = 您的檢查已取消。

## Capture guidance (lane::events::guidance)
preview-label = 攝影機
hint-look-at-camera = 請直視攝影機。
hint-come-closer = 請再靠近一點。
hint-remove-sunglasses = 請摘下太陽眼鏡或口罩。
hint-one-person = 攝影機前請只站一人。
hint-more-light = 光線太暗。請面向光源。
hint-hold-still = 請保持不動。
hint-hold-qr-steady = 請將QR碼穩定地保持在框內。
hint-too-bright = 光線太強。請避開直射光。
hint-stop-and-look = 請稍停片刻，看向閘門上的攝影機。
