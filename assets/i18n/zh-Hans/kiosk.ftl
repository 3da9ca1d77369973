# Kiosk texts: Simplified Chinese.

app-title = 海关 电子申报闸机

## Step header
progress-welcome = 欢迎
progress-passport = 护照
progress-declaration = 海关申报
progress-face = 面部照片
progress-result = 结果
progress-gate = 闸机
progress-done = 完成
progress-current = 当前

## Welcome
welcome-title = 欢迎
welcome-instruction = 请选择语言，然后点击“开始”。
welcome-choose-language = 语言
welcome-start = 开始

## Passport (IC chip)
passport-title = 护照
passport-instruction = 请将护照照片页朝下，放在读取器上。

## Customs declaration (QR code)
declaration-title = 海关申报
declaration-instruction = 请将海关申报应用程序中的二维码对准扫描器。

## Face photo
face-title = 面部照片
face-instruction = 请看向摄像头。请摘下口罩和墨镜。

## Result
result-title = 结果
result-instruction = 正在确认，请稍候。
result-checking = 正在确认，请稍候。
result-green-title = 请前往电子申报闸机
result-green-instruction = 海关检查已完成。谢谢您的配合。
result-referral-title = 请前往人工检查台
result-referral-instruction = 海关工作人员将为您办理。
result-reasons-heading = 原因：

## e-Gate
gate-title = 电子申报闸机
gate-instruction = 请通过电子申报闸机。
gate-open = 闸机已打开，请通过。
gate-completed = 谢谢。祝您在日本过得愉快。
gate-timeout = 闸机已关闭。请联系工作人员。
gate-alarm = 请停下。工作人员马上过来协助您。
gate-unavailable = 闸机暂时无法使用。请前往人工检查台。

## Step failures (StepOutcome::Failed code)
error-chip-unreadable = 无法读取护照芯片。请重新放置护照。
error-qr-invalid = 此二维码无法使用。请出示海关申报应用程序中的二维码。
error-qr-not-yours = 此二维码属于另一本护照。请出示您本人申报的二维码。
error-face-not-matched = 无法将您的面部与护照照片进行比对。请正视摄像头。
error-camera-unavailable = 摄像头无法使用。请联系工作人员。
error-reader-unavailable = 护照读取器无法使用。请联系工作人员。
error-other = 出现问题。请联系工作人员。

## Referral reasons (ReasonCode)
reason-prohibited-articles = 您申报了禁止或限制进口的物品。
reason-over-allowance = 您申报了超出免税额度的物品。
reason-commercial-goods = 您申报了商业货物或样品。
reason-carried-for-others = 您申报了替他人携带的物品。
reason-cash-or-gold = 您申报了超过100万日元的现金或有价证券，或超过1公斤的黄金。
reason-unaccompanied-articles = 您申报了另行托运的物品（分离运输行李）。
reason-face-mismatch = 无法将您的面部与护照照片比对一致。
reason-presentation-attack-suspected = 摄像头无法确认镜头前是您本人（可能出示了照片或屏幕）。
reason-face-not-captured = 未能拍摄到您的面部照片。
reason-document-expired = 您的护照已过期。
reason-document-inconsistent = 无法确认护照信息。
reason-chip-unreadable = 无法读取护照芯片。
reason-document-not-authentic = 无法验证护照的电子签名。
reason-chip-not-genuine = 无法确认护照芯片为真。
reason-declaration-holder-mismatch = 该申报属于另一本护照。
reason-declaration-invalid = 申报二维码无效。
reason-random-selection = 您被随机选中接受检查。
# Same text as random selection: the passenger must not learn of the watch list.
reason-watch-list = { reason-random-selection }

## Step time limits, cancel, timeout (lane::control)
control-cancel = 返回 / 取消
countdown-label = 剩余时间
countdown-unit = 秒
timeout-title = 时间已到
timeout-instruction = 此步骤未能在规定时间内完成。请触摸"重试"重新开始，或前往有人工作的检查台。
timeout-retry = 重试
welcome-cancelled = 您的检查已取消。您可以随时重新开始。
error-document-unknown = 此处无法读取该证件。请将您的电子护照（带IC芯片）照片页朝下放在读取器上。
error-timed-out = 此步骤的时间已到。
error-cancelled = 您的检查已取消。

## Capture guidance (lane::events::guidance)
preview-label = 摄像头
hint-look-at-camera = 请直视摄像头。
hint-come-closer = 请再靠近一点。
hint-remove-sunglasses = 请摘下墨镜或口罩。
hint-one-person = 摄像头前请只站一人。
hint-more-light = 光线太暗。请面向光源。
hint-hold-still = 请保持不动。
hint-hold-qr-steady = 请将二维码稳定地保持在框内。
hint-too-bright = 光线太强。请避开直射光。
hint-stop-and-look = 请稍停片刻，看向闸机上的摄像头。
