"""Normalisation of request text (诉求文本) before any feature is computed.

Why: the same request reaches us as a phone transcript, a grid worker's note, a rider's
message typed on the move, a letter pasted from Word, a message in traditional characters
from a Taiwanese investor. Folding these onto one form (half-width, simplified, lower case,
digits collapsed, punctuation and emoji dropped, length bounded) lets a small linear model
generalise, and keeps the cost of one prediction flat whatever arrives.

jieba (word segmentation) is loaded lazily and quietly: importing this module costs nothing,
the dictionary (about a second) is loaded on the first call of ``words``.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

# Longest text the classifier looks at: the head carries the request, the tail often the
# place or the ask. 20,000 pasted characters cost the same as 600.
HEAD_CHARS = 480
TAIL_CHARS = 120
_RAW_LIMIT = 4 * (HEAD_CHARS + TAIL_CHARS)

# Traditional → simplified (繁→简) for common characters, as "简繁" pairs. No dependency is
# needed for the few hundred characters public requests use; a character missing here stays
# as it is (the character n-grams of its neighbours still count). Keys are characters that
# simplified text does not use, so applying the table to simplified text changes nothing.
PAIRS = (
    "这這 个個 们們 来來 时時 会會 说說 为為 为爲 对對 发發 发髮 经經 过過 还還 进進 后後 里裡 "
    "里裏 与與 无無 开開 关關 门門 问問 间間 学學 车車 东東 动動 电電 灯燈 话話 请請 谢謝 处處 "
    "办辦 区區 号號 楼樓 层層 单單 条條 马馬 么麼 吗嗎 业業 务務 费費 买買 卖賣 钱錢 资資 员員 "
    "厂廠 场場 块塊 坏壞 压壓 烧燒 烟煙 气氣 镇鎮 乡鄉 县縣 网網 报報 确確 实實 现現 见見 觉覺 "
    "规規 记記 认認 设設 诉訴 该該 调調 让讓 证證 护護 变變 货貨 质質 赔賠 价價 传傳 伤傷 备備 "
    "体體 从從 复復 复複 态態 总總 应應 户戶 据據 挡擋 换換 摆擺 摊攤 扫掃 扬揚 数數 断斷 书書 "
    "标標 样樣 检檢 机機 栏欄 决決 没沒 况況 测測 满滿 沟溝 湾灣 灾災 热熱 墙牆 状狀 独獨 环環 "
    "产產 当當 疗療 尽盡 众眾 众衆 碍礙 种種 积積 节節 级級 红紅 约約 纸紙 细細 终終 组組 结結 "
    "给給 统統 绿綠 维維 线線 紧緊 续續 缴繳 罚罰 联聯 声聲 听聽 职職 临臨 兴興 举舉 旧舊 药藥 "
    "虫蟲 卫衛 冲衝 补補 装裝 诊診 谁誰 论論 咨諮 询詢 识識 议議 负負 贩販 责責 贷貸 宾賓 赶趕 "
    "迹跡 轻輕 轮輪 转轉 农農 连連 运運 达達 违違 远遠 适適 迟遲 边邊 邻鄰 医醫 针針 钢鋼 错錯 "
    "锅鍋 锁鎖 铁鐵 长長 闲閒 闸閘 阳陽 阴陰 陈陳 队隊 险險 随隨 隐隱 虽雖 双雙 杂雜 离離 难難 "
    "静靜 响響 顶頂 项項 顺順 预預 领領 头頭 题題 额額 愿願 风風 飞飛 饭飯 馆館 养養 余餘 验驗 "
    "惊驚 闹鬧 鱼魚 鸭鴨 鸡雞 黄黃 点點 龄齡 温溫 准準 净淨 减減 灭滅 垫墊 导導 将將 专專 属屬 "
    "带帶 帮幫 干幹 干乾 广廣 厅廳 厕廁 强強 归歸 恶惡 爱愛 战戰 拥擁 暂暫 晒曬 历歷 历曆 乐樂 "
    "桥橋 岁歲 毁毀 洁潔 浓濃 烂爛 争爭 奖獎 砖磚 稳穩 笔筆 签簽 粮糧 编編 织織 绳繩 罗羅 义義 "
    "习習 脑腦 胶膠 庄莊 万萬 叶葉 苏蘇 虾蝦 访訪 诈詐 评評 试試 诚誠 课課 讲講 译譯 丰豐 猫貓 "
    "贴貼 赌賭 较較 辞辭 递遞 选選 迁遷 钟鐘 钟鍾 阅閱 板闆 陆陸 雾霧 灵靈 页頁 顿頓 颗顆 顾顧 "
    "台臺 台颱 台檯 飘飄 饼餅 骑騎 骗騙 脏髒 脏臟 松鬆 鲜鮮 盐鹽 麦麥 龙龍 滚滾 汉漢 营營 爷爺 "
    "牵牽 犹猶 毕畢 疯瘋 盏盞 矿礦 谷穀 洼窪 窝窩 竞競 帘簾 笼籠 粪糞 纪紀 纹紋 纳納 纯純 绝絕 "
    "综綜 缓緩 缝縫 缠纏 罢罷 肃肅 脚腳 脸臉 苍蒼 盖蓋 荐薦 蓝藍 亏虧 训訓 词詞 诱誘 谅諒 谣謠 "
    "读讀 竖豎 猪豬 贫貧 贼賊 赖賴 赠贈 践踐 轨軌 辈輩 输輸 辖轄 轰轟 辩辯 游遊 丑醜 钞鈔 铅鉛 "
    "铜銅 表錶 链鏈 链鍊 钥鑰 阁閣 阔闊 闯闖 韩韓 显顯 饿餓 驻駐 驾駕 驶駛 斗鬥 凤鳳 鹅鵝 面麵 "
    "党黨 霉黴 壶壺 夹夾 币幣 庙廟 厨廚 汇匯 汇彙 拦攔 搅攪 晓曉 弃棄 栋棟 枪槍 桩樁 横橫 档檔 "
    "樱櫻 欢歡 壳殼 污汙 涌湧 湿濕 卤滷 渔漁 浆漿 泼潑 沥瀝 滩灘 乌烏 炼煉 烦煩 炖燉 烫燙 炉爐 "
    "狭狹 狮獅 亩畝 异異 卢盧 瞒瞞 窑窯 筛篩 筹籌 纽紐 扎紮 绞絞 缉緝 纵縱 绕繞 缆纜 坛罈 坛壇 "
    "胁脅 脉脈 肾腎 腻膩 艳豔 艳艷 茎莖 莲蓮 萧蕭 姜薑 艺藝 芦蘆 苹蘋 虚虛 蝇蠅 蚕蠶 觅覓 诬誣 "
    "谐諧 谜謎 岂豈 贡貢 贪貪 贬貶 赏賞 贤賢 赚賺 购購 软軟 辉輝 迈邁 邮郵 邓鄧 酿釀 铭銘 锐銳 "
    "锦錦 锡錫 铲鏟 铸鑄 鉴鑑 凿鑿 阀閥 阵陣 巩鞏 韵韻 颤顫 饱飽 喂餵 饶饒 驯馴 骚騷 骄驕 胡鬍 "
    "郁鬱 鲤鯉 鸣鳴 鸽鴿 鹤鶴 咸鹹 丽麗 庞龐 园園 围圍 图圖 团團 国國 圆圓 库庫 仓倉 宁寧 宽寬 "
    "寻尋 岛島 弯彎 彻徹 惩懲 懒懶 摄攝 敌敵 泪淚 泽澤 滤濾 盗盜 码碼 础礎 祸禍 税稅 筑築 篮籃 "
    "绪緒 缘緣 缩縮 绩績 绘繪 翘翹 圣聖 肿腫 蒋蔣 兰蘭 蜡蠟 裤褲 袜襪 讯訊 托託 谋謀 赢贏 趋趨 "
    "踪蹤 钉釘 铃鈴 铝鋁 银銀 销銷 锋鋒 键鍵 镜鏡 颈頸 饥饑 驱驅 鲁魯 齿齒 龟龜 滞滯 滥濫 泻瀉 "
    "兽獸 困睏 秆稈 笋筍 纱紗 纺紡 绑綁 聪聰 肤膚 衬襯 诗詩 夸誇 谎謊 谱譜 轴軸 颁頒 刮颳 骤驟 "
    "鹰鷹 寝寢 梦夢 绣繡 卜蔔 冻凍 灶竈 窃竊 鸟鳥 孙孫 儿兒 妇婦 奋奮 夺奪 坝壩 尘塵 寿壽 够夠 "
    "宝寶 写寫 尸屍 岭嶺 废廢 弹彈 忧憂 怀懷 戏戲 执執 拟擬 挤擠 抢搶 携攜 拨撥 抛拋 捡撿 昼晝 "
    "极極 构構 权權 柜櫃 残殘 浅淺 济濟 涨漲 洒灑 画畫 监監 盘盤 礼禮 称稱 穷窮 范範 简簡 纷紛 "
    "丝絲 练練 胆膽 铺鋪 铺舖 艰艱 术術 制製 览覽 触觸 订訂 详詳 贝貝 财財 贯貫 贺賀 赛賽 赞贊 "
    "赞讚 赵趙 跃躍 军軍 载載 辆輛 辅輔 释釋 钩鉤 录錄 际際 阶階 须須 颜顏 齐齊 凉涼 扰擾 涝澇 "
    "浇澆 渍漬 仅僅 亿億 径徑 侧側 内內 劳勞 协協 恳懇 烛燭 亚亞 严嚴 乱亂 亲親 观觀 视視 计計 "
    "许許 语語 误誤 谈談 谓謂 优優 击擊 担擔 潜潛 叠疊 痒癢 皱皺 疮瘡 纠糾 厉厲 划劃 剧劇 刘劉 "
    "则則 刚剛 创創 删刪 别別 剥剝 剂劑 劝勸 势勢 华華 参參 叹嘆 吓嚇 启啟 向嚮 哑啞 唤喚 喷噴 "
    "嘱囑 坚堅 坟墳 坠墜 垦墾 壮壯 妈媽 娱娛 婴嬰 宠寵 审審 宫宮 尔爾 尝嘗 届屆 岗崗 峡峽 师師 "
    "帐帳 张張 弥彌 忆憶 怜憐 恋戀 恒恆 恼惱 悬懸 惧懼 惨慘 惯慣 愤憤 扩擴 抚撫 拢攏 拣揀 拧擰 "
    "择擇 挂掛 挣掙 挥揮 损損 掷擲 揽攬 搂摟 摇搖 撑撐 敛斂 旷曠 杀殺 杂襍 杨楊 枣棗 栅柵 树樹 "
    "榄欖 汤湯 泞濘 浊濁 渐漸 溃潰 滨濱 烟菸 焕煥 牍牘 犊犢 狱獄 猎獵 玛瑪 皑皚 秃禿 稣穌 窍竅 "
    "筝箏 篱籬 类類 纤纖 绍紹 络絡 继繼 羁羈 聋聾 肠腸 肮骯 胀脹 胜勝 腊臘 舰艦 舱艙 芜蕪 苇葦 "
    "茧繭 荡蕩 荣榮 莹瑩 获獲 获穫 虑慮 蚁蟻 蛮蠻 袭襲 誉譽 讨討 诞誕 诸諸 谊誼 谨謹 败敗 贱賤 "
    "贵貴 贸貿 赋賦 踊踴 逻邏 遗遺 郑鄭 酱醬 钓釣 钙鈣 钦欽 锤錘 锯鋸 闭閉 闪閃 闷悶 闻聞 隶隸 "
    "雏雛 雳靂 霁霽 韦韋 顽頑 颇頗 频頻 饮飲 饰飾 饲飼 饺餃 馅餡 馒饅 驰馳 驴驢 骂罵 鸿鴻 于於 "
    "只隻 系係 系繫 伙夥 佣傭 侠俠 侥僥 侦偵 侨僑 俩倆 俭儉 债債 倾傾 偿償 储儲 凭憑 凯凱 剑劍 "
    "劲勁 却卻 厌厭 吨噸 启啓 吴吳 吕呂 呐吶 呛嗆 咙嚨 哗嘩 唠嘮 啰囉 喽嘍 嗳噯 嘘噓 团糰 垄壟 "
    "垒壘 埚堝 塆壪 墙墻 奂奐 奥奧 妆妝 姗姍 娅婭 娇嬌 娄婁 婶嬸 孪孿 尧堯 屉屜 屿嶼 岚嵐 峤嶠 "
    "峦巒 帅帥 帜幟 帧幀 干榦 并並 并併 庐廬 弪弳 彦彥 征徵 御禦 忏懺 怂慫 怃憮 怄慪 怅悵 怆愴 "
    "恶噁 恸慟 恹懨 恺愷 恻惻 悦悅 悭慳 悯憫 惫憊 惬愜 惭慚 惮憚 愠慍 愦憒 戆戇 戋戔 戗戧 戬戩 "
    "扑撲 扪捫 抟摶 抠摳 抡掄 挚摯 挛攣 挜掗 挝撾 挞撻 挟挾 挠撓 挢撟 挦撏 捞撈 捣搗 掳擄 掴摑 "
    "掸撣 掺摻 掼摜 揿撳 搀攙 搁擱 摅攄 摈擯 撄攖 撵攆 撷擷 撸擼 撺攛 擞擻 攒攢 斋齋 斓斕 斩斬 "
    "旸暘 昙曇 晋晉 晔曄 晕暈 晖暉 朴樸 杆桿 杩榪 杰傑 枞樅 枢樞 枥櫪 枧梘 枨棖 枫楓 枭梟 柠檸 "
    "柽檉 栀梔 栈棧 栉櫛 栊櫳 栌櫨 栎櫟 栖棲 栾欒 桠椏 桡橈 桢楨 桤榿 桦樺 桧檜 桨槳 梼檮 梾棶 "
    "棂欞 椁槨 椟櫝 椠槧 椤欏 椭橢 榇櫬 榈櫚 榉櫸 槚檟 槛檻 槟檳 槠櫧 樯檣 橥櫫 橱櫥 橹櫓 橼櫞 "
    "檐簷 欤歟 欧歐 歼殲 殁歿 殇殤 殒殞 殓殮 殚殫 殡殯 殴毆 毂轂 毙斃 毡氈 毵毿 氇氌 氢氫 氩氬 "
    "氲氳 汹洶 沣灃 沤漚 沦淪 沧滄 沪滬 泶澩 泷瀧 泸瀘 泺濼 泾涇 浃浹 浈湞 浍澮 浏瀏 浑渾 浒滸 "
    "浔潯 涛濤 涞淶 涟漣 涠潿 涡渦 涣渙 涤滌 润潤 涧澗 涩澀 渊淵 渌淥 渎瀆 渑澠 渖瀋 渗滲 溅濺 "
    "溆漵 滗潷 滟灧 滠灄 滢瀅 滦灤 滪澦 潆瀠 潇瀟 潋瀲 潍濰 潴瀦 澜瀾 濑瀨 濒瀕 灏灝 灿燦 炀煬 "
    "炜煒 炝熗 炽熾 烁爍 烃烴 烨燁 烩燴 烬燼 焖燜 焘燾 牦犛 牺犧 犷獷 犸獁 "
)


def _t2s() -> dict[int, str]:
    table: dict[int, str] = {}
    for pair in PAIRS.split():
        simp, trad = pair[0], pair[1]
        if simp != trad:
            table.setdefault(ord(trad), simp)
    return table


T2S = _t2s()

_NON_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def truncate(text: str) -> str:
    """Head and tail of a long text, joined by a space."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return text[:HEAD_CHARS] + " " + text[-TAIL_CHARS:]


def normalize(text: object) -> str:
    """One canonical form of a request text; never raises.

    NFKC folds full-width letters and digits; the table maps traditional characters to
    simplified; runs of digits become ``0`` (house numbers, counts and phone numbers carry no
    topic); everything that is neither a letter nor a digit (punctuation, emoji, symbols,
    control characters) becomes one space.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if len(text) > _RAW_LIMIT:  # bound the work before the per-character passes
        text = text[: _RAW_LIMIT // 2] + " " + text[-_RAW_LIMIT // 4 :]
    text = unicodedata.normalize("NFKC", text).translate(T2S).lower()
    text = _DIGITS.sub("0", text)
    text = _NON_WORD.sub(" ", text).strip()
    return truncate(text)


def has_signal(normalized: str) -> bool:
    """True when the text holds at least one Chinese character: the corpus and the list of
    matters are Chinese, so a text without one (English, emoji only, digits) has nothing the
    model could have learned from."""
    return bool(_CJK.search(normalized))


# --- jieba, lazily and quietly -------------------------------------------------------------
_jieba_lock = threading.Lock()
_tokenizer = None


def _jieba():
    global _tokenizer
    if _tokenizer is None:
        with _jieba_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                _tokenizer = tok
    return _tokenizer


def words(normalized: str) -> list[str]:
    """jieba words of a normalised text, without spaces (precise mode, no HMM: the HMM
    guesses new words differently for nearly identical inputs, which costs stability and
    time for no gain on short requests)."""
    return [w for w in _jieba().lcut(normalized, HMM=False) if w.strip()]
