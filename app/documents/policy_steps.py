"""The policy wizard's steps (方針作成ガイド): what the admin is asked, in order, with the choices offered."""

from __future__ import annotations

from functools import partial

from app.documents.wizard import Field, Option, Step, text_field

_text = partial(text_field, max_length=200)


STANCE = Step(
    key="stance",
    title="会社と基本姿勢",
    intro=(
        "基本方針は、会社がお客様と従業員の両方に向けて示す約束です。"
        "厚生労働省の企業マニュアルは事前の準備の第一に基本方針の明確化と周知を挙げ、"
        "国の指針の素案も、毅然と対応して働く人を守る方針を示すよう求めています。"
    ),
    fields=(
        _text("company_name", "会社名", required=True, placeholder="株式会社○○", help="正式な社名を入れます。"),
        _text(
            "issuer",
            "発行者(役職と氏名)",
            required=True,
            placeholder="代表取締役社長 山田 太郎",
            help="経営トップの名前で出すと、会社全体の約束として伝わります。",
        ),
        _text(
            "effective_date",
            "制定日",
            required=True,
            placeholder="2026年4月1日",
            help="改定したときは改定日も書き添えます。",
        ),
        Field(
            "stance",
            "基本的な考え方",
            "textarea",
            required=True,
            help="お客様への敬意、正当なご意見への姿勢、従業員を守る決意を入れます。1行が1段落になります。",
        ),
    ),
)

DEFINITION = Step(
    key="definition",
    title="カスハラの定義と対象となる行為",
    intro=(
        "どのような言動をカスタマーハラスメントとして扱うかを示すと、現場の判断がそろい、お客様にも線の位置が伝わります。"
        "定義は国の基準に沿わせ、例示は自社で起きやすい行為から選びます。"
    ),
    fields=(
        Field(
            "definition",
            "定義",
            "textarea",
            required=True,
            help="厚生労働省のマニュアルや法律の定義に沿った書き方にします。",
        ),
        Field(
            "behaviours",
            "対象となる行為の例",
            "choices",
            help="方針には選んだ順に載り、最後に「これらに限りません」と添えます。",
            options=(
                Option("physical", "身体的な攻撃(暴行・傷害)", "殴る、蹴る、物を投げつけるなどの身体的な攻撃"),
                Option("threats", "脅迫・暴言・侮辱", "脅迫、暴言、侮辱、人格を否定する発言などの精神的な攻撃"),
                Option("intimidation", "威圧的な言動", "大声で怒鳴る、机をたたくなどの威圧的な言動"),
                Option("dogeza", "土下座の要求", "土下座の要求"),
                Option(
                    "persistent", "継続的・執拗な言動", "同じ要求や質問をしつこく繰り返すなどの、継続的・執拗な言動"
                ),
                Option(
                    "restraint",
                    "拘束的な行動(居座り・長電話・不退去)",
                    "長時間の居座りや長電話、退去の求めに応じないなどの拘束的な行動",
                ),
                Option("discrimination", "差別的な言動", "国籍、性別、性的指向などを理由とする差別的な言動"),
                Option("sexual", "性的な言動", "性的な発言、不必要な身体への接触、つきまといなどの性的な言動"),
                Option(
                    "personal_attack",
                    "従業員個人への攻撃(SNS投稿・無断撮影を含む)",
                    "特定の従業員への攻撃や要求(SNSへの名指しの投稿やそのほのめかし、無断での撮影を含みます)",
                ),
                Option(
                    "excessive_demands",
                    "過大な要求(交換・補償・謝罪)",
                    "妥当な範囲を超える商品の交換、金銭による補償、謝罪などの要求",
                ),
            ),
        ),
        Field(
            "behaviours_extra",
            "追加・言い換えたい行為",
            "lines",
            help="自社の言葉で書き足したい行為を、1行に1つずつ入力します。",
            max_length=200,
            placeholder="例: 契約金額の大幅な減額を繰り返し求める",
        ),
    ),
)

RESPONSE = Step(
    key="response",
    title="カスハラへの対応",
    intro=(
        "2025年に改正された労働施策総合推進法は、相談体制の整備とあわせて、カスハラを抑止するための措置を講じることを"
        "事業主に求めています。"
        "会社が取る対応を前もって示しておくと抑止になり、現場が対応の終了を告げるときの後ろ盾にもなります。"
    ),
    fields=(
        Field(
            "responses",
            "会社が取る対応",
            "choices",
            options=(
                Option(
                    "warn",
                    "警告",
                    "行為をやめていただくようお願いし、やめていただけない場合は対応を終了する旨をお伝えします。",
                ),
                Option(
                    "end",
                    "対応を打ち切る・電話を終える",
                    "それでも行為が続く場合は、対応を打ち切り、電話であれば通話を終了します。",
                ),
                Option("refuse_service", "サービス提供を断る", "商品やサービスの提供をお断りすることがあります。"),
                Option("leave", "退去を求める", "店舗や施設から退去していただくようお願いします。"),
                Option(
                    "ban",
                    "出入り禁止・取引停止",
                    "以後のご来店やお取引をお断りすることがあります。この判断は、社内の手順に沿って組織として行います。",
                ),
                Option("record", "録音・録画", "事実を正確に確かめるため、やり取りを録音・録画することがあります。"),
            ),
        ),
        Field(
            "response_limits",
            "長時間の対応についての考え方",
            "text",
            help="具体的な分数や回数は応対マニュアルで決め、方針には考え方を書きます。",
            max_length=300,
        ),
    ),
)

ESCALATION = Step(
    key="escalation",
    title="社内の対応体制",
    intro=(
        "国の指針の案は、できる限り一人で対応させず、管理監督者がすぐに関わることを重視しています。"
        "段階ごとに誰が引き受けるかを決めておくと、従業員は迷わずに引き継げます。"
    ),
    fields=(
        _text("escalation_first", "一次対応(現場の責任者)", help="最初に報告を受け、現場で対応に加わる人です。"),
        _text("escalation_second", "二次対応(専門部署)", help="現場で収まらない事案を引き継ぐ部署です。"),
        _text(
            "escalation_final",
            "最終判断(組織としての対応)",
            help="出入り禁止や法的措置など、重い措置を決める人や部署です。",
        ),
    ),
)

DESK = Step(
    key="desk",
    title="相談窓口",
    intro=(
        "改正法により、従業員からの相談に応じて適切に対応する体制を整えることが、"
        "規模を問わずすべての事業主の義務になります。"
        "相談したことや事実確認に協力したことを理由とする不利益な取扱いも禁じられます(33条2項)。"
    ),
    fields=(
        _text("desk_name", "窓口の名称"),
        _text(
            "desk_contact",
            "連絡先",
            placeholder="内線 1234 / soudan@example.co.jp",
            help="社外に公表する方針に載せてよいか確かめます。",
        ),
        _text("desk_hours", "受付時間", placeholder="平日 9時〜18時"),
        Field(
            "desk_promises",
            "窓口の約束",
            "choices",
            options=(
                Option("privacy", "プライバシーを守る", "相談した人と、事実確認に協力した人のプライバシーを守ります。"),
                Option(
                    "no_retaliation",
                    "相談を理由に不利益に扱わない",
                    "相談したことや事実確認に協力したことを理由に、解雇その他の不利益な取扱いはしません。",
                ),
                Option(
                    "gray_cases",
                    "判断に迷う段階でも受け付ける",
                    "カスハラに当たるかどうか迷う段階でも、相談を受け付けます。",
                ),
                Option(
                    "everyone",
                    "雇用形態を問わず利用できる",
                    "正社員に限らず、パートやアルバイトなど、当社で働くすべての人が利用できます。",
                ),
            ),
        ),
        Field("desk_note", "補足", "textarea", max_length=1000),
    ),
)

CARE = Step(
    key="care",
    title="従業員への配慮",
    intro=(
        "厚生労働省の企業マニュアルは、発生時の対応として、被害を受けた従業員への配慮を挙げています。"
        "精神障害の労災認定の基準でも、顧客などからの著しい迷惑行為が評価の対象として明示されています。"
    ),
    fields=(
        Field(
            "care",
            "会社が行う配慮",
            "choices",
            options=(
                Option("not_alone", "一人で対応させない", "従業員を一人で対応させず、複数の担当者で対応します。"),
                Option("rotate", "担当の交代", "必要に応じて担当者を交代し、被害を受けた従業員を対応から外します。"),
                Option("rest", "休憩・休暇", "心身を休められるよう、休憩や休暇に配慮します。"),
                Option(
                    "counseling", "産業医・カウンセラー", "産業医やカウンセラーなどの専門家に相談できるようにします。"
                ),
                Option("follow_up", "事後の面談", "対応のあとに上司や窓口の担当者が面談し、心身の状態を確かめます。"),
                Option("training", "研修", "対応の方法を身につけるための研修を、すべての従業員に行います。"),
            ),
        ),
        _text("care_note", "その他の配慮"),
    ),
)

OUTSIDE = Step(
    key="outside",
    title="警察・弁護士との連携",
    intro=(
        "暴行や脅迫など犯罪のおそれがある行為や、身の危険がある場面では、迷わず警察に通報することが勧められています。"
        "外部の専門家と連携することを方針に書いておくと、現場がためらわずに動けます。"
    ),
    fields=(
        Field(
            "outside",
            "連携の方法",
            "choices",
            options=(
                Option(
                    "call_110",
                    "暴力・脅迫は110番",
                    "暴力や脅迫など、身の危険や犯罪のおそれがある場合は、ためらわずに110番通報します。",
                ),
                Option(
                    "police_station", "所轄警察署への相談", "繰り返される迷惑行為などは、所轄の警察署に相談します。"
                ),
                Option(
                    "call_9110",
                    "#9110(警察相談専用電話)",
                    "緊急ではない相談には、警察相談専用電話(#9110)も利用します。",
                ),
                Option(
                    "lawyer", "顧問弁護士への相談", "悪質な事案は顧問弁護士に相談し、法的措置を含めて対応を検討します。"
                ),
                Option(
                    "partners",
                    "取引先との協力",
                    "当社の従業員が取引先に同様の行為をしないよう努め、他社から協力を求められた場合は誠実に応じます。",
                ),
            ),
        ),
        _text("outside_note", "連携先・補足", placeholder="例: 顧問弁護士 ○○法律事務所"),
    ),
)

RECORDS = Step(
    key="records",
    title="記録と再発防止",
    intro=(
        "事実を正確に確かめて適切に対応するには、記録が欠かせません。"
        "国の指針の案も録音・録画を対策の例に挙げています。記録を振り返ることが、再発の防止につながります。"
    ),
    fields=(
        Field(
            "records",
            "記録の方法",
            "choices",
            options=(
                Option(
                    "details",
                    "日時・場所・相手・発言・要求・対応者・経過",
                    "日時、場所、相手、発言、要求、対応者、経過を記録します。",
                ),
                Option("audio", "録音・録画", "録音・録画や画面の保存などで、客観的な記録を残します。"),
                Option("form", "報告書式", "社内で共通の報告書式を使い、記録の項目をそろえます。"),
                Option("retention", "保存期間", "記録は期間を定めて保存し、期間を過ぎたものは適切に廃棄します。"),
                Option("review", "事例の検証と共有", "記録をもとに事例を振り返り、再発防止策を社内で共有します。"),
            ),
        ),
        _text(
            "records_note", "保管場所・保存期間", placeholder="例: 記録は本部 お客様相談室が管理し、3年間保存します。"
        ),
    ),
)

PUBLISH = Step(
    key="publish",
    title="周知・公表と見直し",
    intro=(
        "方針は、働くすべての人に届いてはじめて役に立ちます。"
        "厚生労働省の企業マニュアルも、基本方針を従業員に周知し、理解を深めることを挙げています。"
    ),
    fields=(
        Field(
            "publish",
            "周知・公表の方法",
            "choices",
            options=(
                Option("staff", "社内への周知", "すべての従業員に、研修や社内掲示を通じて周知します。"),
                Option("website", "ウェブサイトで公表", "当社のウェブサイトで公表します。"),
                Option("store", "店頭・窓口に掲示", "店舗や窓口に掲示します。"),
                Option("partners", "取引先への通知", "お取引先には、文書などでお知らせします。"),
            ),
        ),
        Field("customer_request", "お客様へのお願い", "textarea", max_length=1000),
        _text("review", "見直しの時期"),
        _text("department", "所管部署", placeholder="例: 総務部"),
        _text("inquiry", "お問い合わせ先", placeholder="例: お客様相談室 0120-000-000(平日9時〜17時)"),
    ),
)

POLICY_STEPS: tuple[Step, ...] = (STANCE, DEFINITION, RESPONSE, ESCALATION, DESK, CARE, OUTSIDE, RECORDS, PUBLISH)
