# Kiosk texts: Japanese.

app-title = 税関 電子申告ゲート

## Step header
progress-welcome = ようこそ
progress-passport = パスポート
progress-declaration = 税関申告
progress-face = 顔写真
progress-result = 結果
progress-gate = ゲート
progress-done = 完了
progress-current = 現在

## Welcome
welcome-title = ようこそ
welcome-instruction = 言語を選んで、「開始」にタッチしてください。
welcome-choose-language = 言語
welcome-start = 開始

## Passport (IC chip)
passport-title = パスポート
passport-instruction = 写真のページを下にして、パスポートを読み取り機に置いてください。

## Customs declaration (QR code)
declaration-title = 税関申告
declaration-instruction = 税関申告アプリのQRコードを読み取り機にかざしてください。

## Face photo
face-title = 顔写真
face-instruction = カメラを見てください。マスクとサングラスを外してください。

## Result
result-title = 結果
result-instruction = 確認しています。しばらくお待ちください。
result-checking = 確認しています。しばらくお待ちください。
result-green-title = 電子申告ゲートへお進みください
result-green-instruction = 税関の確認が終わりました。ありがとうございました。
result-referral-title = 有人の検査台へお進みください
result-referral-instruction = 税関職員がご案内します。
result-reasons-heading = 理由：

## e-Gate
gate-title = 電子申告ゲート
gate-instruction = 電子申告ゲートをお通りください。
gate-open = ゲートが開きました。お進みください。
gate-completed = ありがとうございました。よいご滞在を。
gate-timeout = ゲートが閉まりました。係員にお声がけください。
gate-alarm = 止まってください。係員が参ります。
gate-unavailable = ゲートは現在ご利用いただけません。有人の検査台へお進みください。

## Step failures (StepOutcome::Failed code)
error-chip-unreadable = パスポートのICチップを読み取れませんでした。もう一度パスポートを置いてください。
error-qr-invalid = このQRコードは使用できません。税関申告アプリのQRコードを表示してください。
error-qr-not-yours = このQRコードは別のパスポートのものです。ご自身の申告のQRコードを表示してください。
error-face-not-matched = お顔とパスポートの写真を照合できませんでした。カメラをまっすぐ見てください。
error-camera-unavailable = カメラが使用できません。係員にお声がけください。
error-reader-unavailable = パスポート読み取り機が使用できません。係員にお声がけください。
error-other = 問題が発生しました。係員にお声がけください。

## Referral reasons (ReasonCode)
reason-prohibited-articles = 輸入が禁止または制限されている物品が申告されました。
reason-over-allowance = 免税範囲を超える物品が申告されました。
reason-commercial-goods = 商業貨物または商品見本が申告されました。
reason-carried-for-others = 他人から預かった物品が申告されました。
reason-cash-or-gold = 100万円相当額を超える現金・有価証券、または1kgを超える金が申告されました。
reason-unaccompanied-articles = 別送品が申告されました。
reason-face-mismatch = お顔とパスポートの写真を照合できませんでした。
reason-presentation-attack-suspected = カメラの前にいるのがご本人であることを確認できませんでした（写真や画面が映った可能性があります）。
reason-face-not-captured = 顔写真を撮影できませんでした。
reason-document-expired = パスポートの有効期限が切れています。
reason-document-inconsistent = パスポートの情報を確認できませんでした。
reason-chip-unreadable = パスポートのICチップを読み取れませんでした。
reason-document-not-authentic = 旅券の電子署名を確認できませんでした。
reason-chip-not-genuine = 旅券のICチップが正規のものであることを確認できませんでした。
reason-declaration-holder-mismatch = 申告は別のパスポートのものです。
reason-declaration-invalid = 申告のQRコードが無効です。
reason-random-selection = 無作為に検査の対象に選ばれました。
# Same text as random selection: the passenger must not learn of the watch list.
reason-watch-list = { reason-random-selection }

## Step time limits, cancel, timeout (lane::control)
control-cancel = 戻る / 中止
countdown-label = 残り時間
countdown-unit = 秒
timeout-title = 時間切れです
timeout-instruction = 時間内に手続きが終わりませんでした。「もう一度」にタッチしてやり直すか、有人の検査台へお進みください。
timeout-retry = もう一度
welcome-cancelled = 手続きを中止しました。いつでもやり直せます。
error-document-unknown = この書類はここでは読み取れません。ICパスポートを写真のページを下にして読み取り機に置いてください。
error-timed-out = この手続きの時間が過ぎました。
error-cancelled = 手続きを中止しました。

## Capture guidance (lane::events::guidance)
preview-label = カメラ
hint-look-at-camera = カメラをまっすぐ見てください。
hint-come-closer = もう少し近づいてください。
hint-remove-sunglasses = サングラスやマスクを外してください。
hint-one-person = カメラの前にはお一人でお立ちください。
hint-more-light = 暗すぎます。明るい方を向いてください。
hint-hold-still = そのまま動かないでください。
hint-hold-qr-steady = QRコードを枠の中で動かさないでください。
hint-too-bright = 明るすぎます。強い光の当たらない位置に立ってください。
hint-stop-and-look = いったん立ち止まり、ゲートのカメラを見てください。
