<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="zh_CN">
<context>
    <name></name>
    <message>
        <source>引擎未及时响应，请稍后再试 (the engine did not answer in time; try again)</source>
        <translation>The engine did not answer in time; try again</translation>
    </message>
    <message>
        <source>操作未完成 (the command failed): {error}</source>
        <translation>The command failed: {error}</translation>
    </message>
    <message>
        <source>均价</source>
        <translation>Avg</translation>
    </message>
    <message>
        <source>日K</source>
        <translation>Daily</translation>
    </message>
    <message>
        <source>收</source>
        <translation>Close</translation>
    </message>
    <message>
        <source>总资产</source>
        <translation>Total assets</translation>
    </message>
    <message>
        <source>最大回撤</source>
        <translation>Max drawdown</translation>
    </message>
    <message>
        <source>亿</source>
        <translation>100M</translation>
    </message>
    <message>
        <source>万</source>
        <translation>10K</translation>
    </message>
    <message>
        <source>取信号</source>
        <translation>Fetch signals</translation>
    </message>
    <message>
        <source>批准截止</source>
        <translation>Approval deadline</translation>
    </message>
    <message>
        <source>连续竞价</source>
        <translation>Continuous trading</translation>
    </message>
    <message>
        <source>日终对账</source>
        <translation>End-of-day reconcile</translation>
    </message>
    <message>
        <source>备份</source>
        <translation>Backup</translation>
    </message>
    <message>
        <source>模拟</source>
        <translation>Sim</translation>
    </message>
    <message>
        <source>布防实盘账户</source>
        <translation>Arm the live account</translation>
    </message>
    <message>
        <source>请输入账户末 {n} 位确认</source>
        <translation>Type the last {n} characters of the account to confirm</translation>
    </message>
    <message>
        <source>布防</source>
        <translation>Arm</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>布防…</source>
        <translation>Arm…</translation>
    </message>
    <message>
        <source>撤防</source>
        <translation>Disarm</translation>
    </message>
    <message>
        <source>实盘·已布防</source>
        <translation>Live · armed</translation>
    </message>
    <message>
        <source>实盘·只读</source>
        <translation>Live · observe-only</translation>
    </message>
    <message>
        <source>Tiller 交易终端</source>
        <translation>Tiller Trading Terminal</translation>
    </message>
    <message>
        <source>已布防：委托将发送到实盘账户</source>
        <translation>Armed: orders go to the live account</translation>
    </message>
    <message>
        <source>回到只读，不再发送新委托 (back to observe-only)</source>
        <translation>Back to observe-only: no new orders are sent</translation>
    </message>
    <message>
        <source>布防后今日收盘前委托将发送到实盘账户 (arm: orders are sent until the close)</source>
        <translation>Arm: orders are sent to the live account until today&apos;s close</translation>
    </message>
    <message>
        <source>券商：重连中</source>
        <translation>Broker: reconnecting</translation>
    </message>
    <message>
        <source>券商：断开</source>
        <translation>Broker: disconnected</translation>
    </message>
    <message>
        <source>Tiller — 实盘未能打开</source>
        <translation>Tiller — the live account could not be opened</translation>
    </message>
    <message>
        <source>重试 (retry)</source>
        <translation>Retry</translation>
    </message>
    <message>
        <source>打开模拟盘 (open the simulated setup)</source>
        <translation>Open the simulated setup</translation>
    </message>
    <message>
        <source>退出 (quit)</source>
        <translation>Quit</translation>
    </message>
    <message>
        <source>窗口</source>
        <translation>Window</translation>
    </message>
    <message>
        <source>今日计划</source>
        <translation>Today&apos;s plan</translation>
    </message>
    <message>
        <source>资金</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>持仓</source>
        <translation>Positions</translation>
    </message>
    <message>
        <source>委托</source>
        <translation>Orders</translation>
    </message>
    <message>
        <source>成交</source>
        <translation>Trades</translation>
    </message>
    <message>
        <source>告警与日志</source>
        <translation>Alerts and log</translation>
    </message>
    <message>
        <source>行情</source>
        <translation>Quotes</translation>
    </message>
    <message>
        <source>图表</source>
        <translation>Charts</translation>
    </message>
    <message>
        <source>策略</source>
        <translation>Strategies</translation>
    </message>
    <message>
        <source>风控设置</source>
        <translation>Risk settings</translation>
    </message>
    <message>
        <source>正在启动…</source>
        <translation>Starting…</translation>
    </message>
    <message>
        <source>模拟时钟速度</source>
        <translation>Simulated clock speed</translation>
    </message>
    <message>
        <source>最快</source>
        <translation>Max</translation>
    </message>
    <message>
        <source>速度</source>
        <translation>Speed</translation>
    </message>
    <message>
        <source>券商：已连接</source>
        <translation>Broker: connected</translation>
    </message>
    <message>
        <source>券商：未连接</source>
        <translation>Broker: disconnected</translation>
    </message>
    <message>
        <source>行情：无</source>
        <translation>Quotes: none</translation>
    </message>
    <message>
        <source>行情：延迟</source>
        <translation>Quotes: delayed</translation>
    </message>
    <message>
        <source>行情：正常</source>
        <translation>Quotes: live</translation>
    </message>
    <message>
        <source>信号：未取得</source>
        <translation>Signals: not fetched</translation>
    </message>
    <message>
        <source>信号：</source>
        <translation>Signals: </translation>
    </message>
    <message>
        <source>交易中</source>
        <translation>Trading</translation>
    </message>
    <message>
        <source>只减仓</source>
        <translation>Reduce only</translation>
    </message>
    <message>
        <source>已停止交易</source>
        <translation>Halted</translation>
    </message>
    <message>
        <source>下一任务：无</source>
        <translation>Next job: none</translation>
    </message>
    <message>
        <source>下一任务：</source>
        <translation>Next job: </translation>
    </message>
    <message>
        <source>显示窗口</source>
        <translation>Show window</translation>
    </message>
    <message>
        <source>Tiller 告警</source>
        <translation>Tiller alert</translation>
    </message>
    <message>
        <source>信息</source>
        <translation>Info</translation>
    </message>
    <message>
        <source>警告</source>
        <translation>Warning</translation>
    </message>
    <message>
        <source>错误</source>
        <translation>Error</translation>
    </message>
    <message>
        <source>严重</source>
        <translation>Critical</translation>
    </message>
    <message>
        <source>时间</source>
        <translation>Time</translation>
    </message>
    <message>
        <source>级别</source>
        <translation>Level</translation>
    </message>
    <message>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <source>内容</source>
        <translation>Message</translation>
    </message>
    <message>
        <source>操作</source>
        <translation>Command</translation>
    </message>
    <message>
        <source>市价</source>
        <translation>Market</translation>
    </message>
    <message>
        <source>代码</source>
        <translation>Code</translation>
    </message>
    <message>
        <source>名称</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>方向</source>
        <translation>Side</translation>
    </message>
    <message>
        <source>价格</source>
        <translation>Price</translation>
    </message>
    <message>
        <source>数量</source>
        <translation>Qty</translation>
    </message>
    <message>
        <source>已成交</source>
        <translation>Filled</translation>
    </message>
    <message>
        <source>成交均价</source>
        <translation>Avg fill</translation>
    </message>
    <message>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>策略</source>
        <comment>one strategy</comment>
        <translation>Strategy</translation>
    </message>
    <message>
        <source>委托编号</source>
        <translation>Order ID</translation>
    </message>
    <message>
        <source>说明</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>只看在途委托</source>
        <translation>Working orders only</translation>
    </message>
    <message>
        <source>撤单 (Del)</source>
        <translation>Cancel (Del)</translation>
    </message>
    <message>
        <source>全部撤单 (Ctrl+Del)</source>
        <translation>Cancel all (Ctrl+Del)</translation>
    </message>
    <message>
        <source>请先选择在途委托 (select a working order first)</source>
        <translation>Select a working order first</translation>
    </message>
    <message>
        <source>撤单已发出 (cancel sent)</source>
        <translation>Cancel sent</translation>
    </message>
    <message>
        <source>全部撤单</source>
        <translation>Cancel all</translation>
    </message>
    <message>
        <source>撤销全部在途委托？</source>
        <translation>Cancel every working order?</translation>
    </message>
    <message>
        <source>全部撤单已发出 (cancel-all sent)</source>
        <translation>Cancel-all sent</translation>
    </message>
    <message>
        <source>成交价</source>
        <translation>Fill price</translation>
    </message>
    <message>
        <source>成交金额</source>
        <translation>Value</translation>
    </message>
    <message>
        <source>费用</source>
        <translation>Fees</translation>
    </message>
    <message>
        <source>成交编号</source>
        <translation>Trade ID</translation>
    </message>
    <message>
        <source>持仓</source>
        <comment>quantity held</comment>
        <translation>Position</translation>
    </message>
    <message>
        <source>可卖</source>
        <translation>Sellable</translation>
    </message>
    <message>
        <source>成本价</source>
        <translation>Avg cost</translation>
    </message>
    <message>
        <source>现价</source>
        <translation>Last</translation>
    </message>
    <message>
        <source>市值</source>
        <translation>Mkt value</translation>
    </message>
    <message>
        <source>浮动盈亏</source>
        <translation>Unrealized P&amp;L</translation>
    </message>
    <message>
        <source>盈亏比例</source>
        <translation>P&amp;L %</translation>
    </message>
    <message>
        <source>仓位占比</source>
        <translation>Weight</translation>
    </message>
    <message>
        <source>现金</source>
        <translation>Cash</translation>
    </message>
    <message>
        <source>可用资金</source>
        <translation>Available</translation>
    </message>
    <message>
        <source>冻结资金</source>
        <translation>Frozen</translation>
    </message>
    <message>
        <source>持仓市值</source>
        <translation>Position value</translation>
    </message>
    <message>
        <source>当日盈亏</source>
        <translation>Day P&amp;L</translation>
    </message>
    <message>
        <source>项目</source>
        <translation>Item</translation>
    </message>
    <message>
        <source>金额 (元)</source>
        <translation>Amount (CNY)</translation>
    </message>
    <message>
        <source>（暂停中）</source>
        <translation> (paused)</translation>
    </message>
    <message>
        <source>已完成</source>
        <translation>Done</translation>
    </message>
    <message>
        <source>计划价</source>
        <translation>Plan price</translation>
    </message>
    <message>
        <source>执行方式</source>
        <translation>Execution</translation>
    </message>
    <message>
        <source>说明（计划与风控）</source>
        <translation>Notes (plan and risk)</translation>
    </message>
    <message>
        <source>修改计划行</source>
        <translation>Edit plan line</translation>
    </message>
    <message>
        <source>数量（股）</source>
        <translation>Quantity (shares)</translation>
    </message>
    <message>
        <source>价格偏移（比例，0 到 0.5）</source>
        <translation>Price offset (fraction, 0 to 0.5)</translation>
    </message>
    <message>
        <source>批准计划</source>
        <translation>Approve plan</translation>
    </message>
    <message>
        <source>暂停买入</source>
        <translation>Pause buys</translation>
    </message>
    <message>
        <source>暂停卖出</source>
        <translation>Pause sells</translation>
    </message>
    <message>
        <source>全部暂停</source>
        <translation>Pause all</translation>
    </message>
    <message>
        <source>恢复</source>
        <translation>Resume</translation>
    </message>
    <message>
        <source>修改</source>
        <translation>Edit</translation>
    </message>
    <message>
        <source>跳过</source>
        <translation>Skip</translation>
    </message>
    <message>
        <source>紧急停止</source>
        <translation>Kill switch</translation>
    </message>
    <message>
        <source>停止一切新委托并撤销全部在途委托（需确认）</source>
        <translation>Stop all new orders and cancel every working order (asks first)</translation>
    </message>
    <message>
        <source>今日暂无计划</source>
        <translation>No plan today</translation>
    </message>
    <message>
        <source>全部已暂停</source>
        <translation>All paused</translation>
    </message>
    <message>
        <source>买入已暂停</source>
        <translation>Buys paused</translation>
    </message>
    <message>
        <source>卖出已暂停</source>
        <translation>Sells paused</translation>
    </message>
    <message>
        <source>已批准</source>
        <translation>Approved</translation>
    </message>
    <message>
        <source>待批准</source>
        <translation>Awaiting approval</translation>
    </message>
    <message>
        <source>自动批准于</source>
        <translation>Auto-approve at</translation>
    </message>
    <message>
        <source>计划已批准 (plan approved)</source>
        <translation>Plan approved</translation>
    </message>
    <message>
        <source>买入已暂停 (buys paused)</source>
        <translation>Buys paused</translation>
    </message>
    <message>
        <source>卖出已暂停 (sells paused)</source>
        <translation>Sells paused</translation>
    </message>
    <message>
        <source>全部已暂停 (all paused)</source>
        <translation>All paused</translation>
    </message>
    <message>
        <source>已恢复 (resumed)</source>
        <translation>Resumed</translation>
    </message>
    <message>
        <source>请先选择要跳过的计划行 (select a line first)</source>
        <translation>Select the plan lines to skip first</translation>
    </message>
    <message>
        <source>跳过计划行</source>
        <translation>Skip plan lines</translation>
    </message>
    <message>
        <source>跳过以下计划行？已在执行的将撤销其在途委托。</source>
        <translation>Skip these plan lines? Lines already executing have their working orders cancelled.</translation>
    </message>
    <message>
        <source>已跳过 (skipped)</source>
        <translation>Skipped</translation>
    </message>
    <message>
        <source>请选择一行计划 (select one line)</source>
        <translation>Select one plan line</translation>
    </message>
    <message>
        <source>此行已交执行或已跳过，不能修改 (already handed or skipped)</source>
        <translation>This line is already executing or skipped; it cannot be edited</translation>
    </message>
    <message>
        <source>价格偏移须为数字 (the price offset must be a number)</source>
        <translation>The price offset must be a number</translation>
    </message>
    <message>
        <source>已修改 (edited)</source>
        <translation>Edited</translation>
    </message>
    <message>
        <source>停止一切新委托并撤销全部在途委托？
之后须在风控设置中把交易状态改回 active 才能再下单。</source>
        <translation>Stop all new orders and cancel every working order?
To trade again afterwards, set the trading state back to active in Risk settings.</translation>
    </message>
    <message>
        <source>已紧急停止：新委托全部拒绝，在途委托已撤 (kill switch on)</source>
        <translation>Kill switch on: new orders are refused, working orders cancelled</translation>
    </message>
    <message>
        <source>最新</source>
        <translation>Last</translation>
    </message>
    <message>
        <source>涨跌</source>
        <translation>Chg</translation>
    </message>
    <message>
        <source>涨跌幅</source>
        <translation>Chg %</translation>
    </message>
    <message>
        <source>成交量(手)</source>
        <translation>Vol (lots)</translation>
    </message>
    <message>
        <source>成交额</source>
        <translation>Turnover</translation>
    </message>
    <message>
        <source>买一</source>
        <translation>Bid 1</translation>
    </message>
    <message>
        <source>卖一</source>
        <translation>Ask 1</translation>
    </message>
    <message>
        <source>昨收</source>
        <translation>Prev close</translation>
    </message>
    <message>
        <source>自选股已满 (the watchlist is full): at most {max}, was adding {code}</source>
        <translation>The watchlist is full: at most {max}, was adding {code}</translation>
    </message>
    <message>
        <source>卖五</source>
        <translation>Ask 5</translation>
    </message>
    <message>
        <source>卖四</source>
        <translation>Ask 4</translation>
    </message>
    <message>
        <source>卖三</source>
        <translation>Ask 3</translation>
    </message>
    <message>
        <source>卖二</source>
        <translation>Ask 2</translation>
    </message>
    <message>
        <source>买二</source>
        <translation>Bid 2</translation>
    </message>
    <message>
        <source>买三</source>
        <translation>Bid 3</translation>
    </message>
    <message>
        <source>买四</source>
        <translation>Bid 4</translation>
    </message>
    <message>
        <source>买五</source>
        <translation>Bid 5</translation>
    </message>
    <message>
        <source>档位</source>
        <translation>Level</translation>
    </message>
    <message>
        <source>数量(手)</source>
        <translation>Vol (lots)</translation>
    </message>
    <message>
        <source>个股最大仓位 (占总资产)</source>
        <translation>Max position per stock (% of assets)</translation>
    </message>
    <message>
        <source>账户最大仓位 (占总资产)</source>
        <translation>Max account exposure (% of assets)</translation>
    </message>
    <message>
        <source>股票池 (白名单)</source>
        <translation>Stock universe (whitelist)</translation>
    </message>
    <message>
        <source>黑名单</source>
        <translation>Blacklist</translation>
    </message>
    <message>
        <source>禁买板块</source>
        <translation>Boards not to buy</translation>
    </message>
    <message>
        <source>禁买 ST/*ST</source>
        <translation>No buying ST/*ST</translation>
    </message>
    <message>
        <source>每日最多买入股票数</source>
        <translation>Max new buys per day</translation>
    </message>
    <message>
        <source>单笔最大金额 (元)</source>
        <translation>Max order value (CNY)</translation>
    </message>
    <message>
        <source>单笔最大股数</source>
        <translation>Max order quantity</translation>
    </message>
    <message>
        <source>限价偏离上限 (防乌龙指)</source>
        <translation>Max limit-price deviation (fat finger)</translation>
    </message>
    <message>
        <source>涨停不买入</source>
        <translation>No buys at limit up</translation>
    </message>
    <message>
        <source>跌停不卖出</source>
        <translation>No sells at limit down</translation>
    </message>
    <message>
        <source>价格笼子预检</source>
        <translation>Price cage pre-check</translation>
    </message>
    <message>
        <source>价格笼子比例</source>
        <translation>Price cage %</translation>
    </message>
    <message>
        <source>价格笼子最小档数</source>
        <translation>Price cage min ticks</translation>
    </message>
    <message>
        <source>北交所价格笼子比例</source>
        <translation>BSE price cage %</translation>
    </message>
    <message>
        <source>重复下单拦截 (秒)</source>
        <translation>Duplicate order block (s)</translation>
    </message>
    <message>
        <source>每日最大成交额 (元)</source>
        <translation>Max daily turnover (CNY)</translation>
    </message>
    <message>
        <source>每秒最多报撤单</source>
        <translation>Max orders + cancels per second</translation>
    </message>
    <message>
        <source>每日最多报撤单</source>
        <translation>Max orders + cancels per day</translation>
    </message>
    <message>
        <source>每日最多撤单</source>
        <translation>Max cancels per day</translation>
    </message>
    <message>
        <source>撤单率上限</source>
        <translation>Max cancel ratio</translation>
    </message>
    <message>
        <source>撤单率起算单数</source>
        <translation>Cancel ratio applies from (orders)</translation>
    </message>
    <message>
        <source>个股止损比例</source>
        <translation>Stop loss per stock</translation>
    </message>
    <message>
        <source>个股止盈比例</source>
        <translation>Take profit per stock</translation>
    </message>
    <message>
        <source>回撤告警比例</source>
        <translation>Drawdown alert</translation>
    </message>
    <message>
        <source>用户</source>
        <translation>User</translation>
    </message>
    <message>
        <source>计划任务</source>
        <translation>Scheduler</translation>
    </message>
    <message>
        <source>命令行</source>
        <translation>Command line</translation>
    </message>
    <message>
        <source>0 到 1 的比例，如 0.2（1 = 不限）</source>
        <translation>a fraction from 0 to 1, e.g. 0.2 (1 = no cap)</translation>
    </message>
    <message>
        <source>金额（元），最多两位小数（0 = 不限）</source>
        <translation>an amount in yuan, at most 2 decimals (0 = no limit)</translation>
    </message>
    <message>
        <source>0 到 0.5 的比例</source>
        <translation>a fraction from 0 to 0.5</translation>
    </message>
    <message>
        <source>代码以逗号分隔，如 600000.SH, 000001.SZ（留空 = 不限）</source>
        <translation>codes separated by commas, e.g. 600000.SH, 000001.SZ (empty = any)</translation>
    </message>
    <message>
        <source>代码以逗号分隔，如 600000.SH, 000001.SZ</source>
        <translation>codes separated by commas, e.g. 600000.SH, 000001.SZ</translation>
    </message>
    <message>
        <source>板块以逗号分隔：sh_main, sz_main, chinext, star, bse, fund</source>
        <translation>boards separated by commas: sh_main, sz_main, chinext, star, bse, fund</translation>
    </message>
    <message>
        <source>0 到 10000 的整数（0 = 不限）</source>
        <translation>a whole number from 0 to 10000 (0 = no limit)</translation>
    </message>
    <message>
        <source>股数（0 = 仅按交易所上限）</source>
        <translation>shares (0 = only the exchange&apos;s limit)</translation>
    </message>
    <message>
        <source>0 到 10 的比例，如 0.5（0 = 关闭）</source>
        <translation>a fraction from 0 to 10, e.g. 0.5 (0 = off)</translation>
    </message>
    <message>
        <source>0 到 1000 的整数</source>
        <translation>a whole number from 0 to 1000</translation>
    </message>
    <message>
        <source>0 到 3600 秒（0 = 关闭）</source>
        <translation>0 to 3600 seconds (0 = off)</translation>
    </message>
    <message>
        <source>1 到 300 的整数（交易所阈值）</source>
        <translation>a whole number from 1 to 300 (the exchanges&apos; threshold)</translation>
    </message>
    <message>
        <source>1 到 20000 的整数（交易所阈值）</source>
        <translation>a whole number from 1 to 20000 (the exchanges&apos; threshold)</translation>
    </message>
    <message>
        <source>0 到 20000 的整数（0 = 不限）</source>
        <translation>a whole number from 0 to 20000 (0 = no limit)</translation>
    </message>
    <message>
        <source>0 到 1 的比例（0 = 关闭）</source>
        <translation>a fraction from 0 to 1 (0 = off)</translation>
    </message>
    <message>
        <source>不小于 1 的整数</source>
        <translation>a whole number of at least 1</translation>
    </message>
    <message>
        <source>0 到 1 的比例，如 0.1（0 = 关闭）</source>
        <translation>a fraction from 0 to 1, e.g. 0.1 (0 = off)</translation>
    </message>
    <message>
        <source>0 到 100 的比例，如 0.2（0 = 关闭）</source>
        <translation>a fraction from 0 to 100, e.g. 0.2 (0 = off)</translation>
    </message>
    <message>
        <source>0 到 1 的比例，如 0.05（0 = 关闭）</source>
        <translation>a fraction from 0 to 1, e.g. 0.05 (0 = off)</translation>
    </message>
    <message>
        <source>操作人</source>
        <translation>By</translation>
    </message>
    <message>
        <source>参数</source>
        <translation>Setting</translation>
    </message>
    <message>
        <source>原值</source>
        <translation>Old</translation>
    </message>
    <message>
        <source>新值</source>
        <translation>New</translation>
    </message>
    <message>
        <source>正常交易</source>
        <translation>Trading</translation>
    </message>
    <message>
        <source>集合竞价</source>
        <translation>Opening auction</translation>
    </message>
    <message>
        <source>限价</source>
        <translation>Limit</translation>
    </message>
    <message>
        <source>五档即成剩撤</source>
        <translation>Best 5, rest cancelled</translation>
    </message>
    <message>
        <source>收盘竞价</source>
        <translation>Closing auction</translation>
    </message>
    <message>
        <source>策略编号</source>
        <translation>Strategy ID</translation>
    </message>
    <message>
        <source>跟踪</source>
        <translation>Followed</translation>
    </message>
    <message>
        <source>分配</source>
        <translation>Allotment</translation>
    </message>
    <message>
        <source>分配资金</source>
        <translation>Allotted</translation>
    </message>
    <message>
        <source>模式</source>
        <translation>Mode</translation>
    </message>
    <message>
        <source>最近获取信号</source>
        <translation>Last signals</translation>
    </message>
    <message>
        <source>是</source>
        <translation>Yes</translation>
    </message>
    <message>
        <source>否</source>
        <translation>No</translation>
    </message>
    <message>
        <source>实盘</source>
        <translation>Live</translation>
    </message>
    <message>
        <source>未跟踪</source>
        <translation>Not followed</translation>
    </message>
    <message>
        <source>今日已完成</source>
        <translation>Done today</translation>
    </message>
    <message>
        <source>执行中</source>
        <translation>Executing</translation>
    </message>
    <message>
        <source>待执行</source>
        <translation>Pending</translation>
    </message>
    <message>
        <source>跟踪中</source>
        <translation>Following</translation>
    </message>
    <message>
        <source>{time} 取得 {batches} 批 {lines} 条</source>
        <translation>{time} fetched {batches} batches, {lines} lines</translation>
    </message>
    <message>
        <source>读取中…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <source>获取当日信号</source>
        <translation>Fetch the day&apos;s signals</translation>
    </message>
    <message>
        <source>自动确认计划</source>
        <translation>Auto-approve the plan</translation>
    </message>
    <message>
        <source>集合竞价下单</source>
        <translation>Opening auction orders</translation>
    </message>
    <message>
        <source>连续竞价开始</source>
        <translation>Continuous trading starts</translation>
    </message>
    <message>
        <source>收盘竞价下单</source>
        <translation>Closing auction orders</translation>
    </message>
    <message>
        <source>盘后对账同步</source>
        <translation>After-close reconcile and sync</translation>
    </message>
    <message>
        <source>数据库备份</source>
        <translation>Database backup</translation>
    </message>
    <message>
        <source>提示</source>
        <translation>Info</translation>
    </message>
    <message>
        <source>邮件</source>
        <translation>Email</translation>
    </message>
    <message>
        <source>企业微信</source>
        <translation>WeCom</translation>
    </message>
    <message>
        <source>钉钉</source>
        <translation>DingTalk</translation>
    </message>
    <message>
        <source>飞书</source>
        <translation>Feishu</translation>
    </message>
    <message>
        <source>企业微信 Webhook</source>
        <translation>WeCom webhook</translation>
    </message>
    <message>
        <source>钉钉 Webhook</source>
        <translation>DingTalk webhook</translation>
    </message>
    <message>
        <source>飞书 Webhook</source>
        <translation>Feishu webhook</translation>
    </message>
    <message>
        <source>买入</source>
        <translation>Buy</translation>
    </message>
    <message>
        <source>卖出</source>
        <translation>Sell</translation>
    </message>
    <message>
        <source>待发送</source>
        <translation>Pending</translation>
    </message>
    <message>
        <source>风控拒绝</source>
        <translation>Risk denied</translation>
    </message>
    <message>
        <source>已发送</source>
        <translation>Sent</translation>
    </message>
    <message>
        <source>已报</source>
        <translation>Accepted</translation>
    </message>
    <message>
        <source>部成</source>
        <translation>Part filled</translation>
    </message>
    <message>
        <source>待撤</source>
        <translation>Cancelling</translation>
    </message>
    <message>
        <source>已成</source>
        <translation>Filled</translation>
    </message>
    <message>
        <source>已撤</source>
        <translation>Cancelled</translation>
    </message>
    <message>
        <source>废单</source>
        <translation>Rejected</translation>
    </message>
    <message>
        <source>已失效</source>
        <translation>Expired</translation>
    </message>
    <message>
        <source>待确认</source>
        <translation>Unconfirmed</translation>
    </message>
    <message>
        <source>已跳过</source>
        <translation>Skipped</translation>
    </message>
    <message>
        <source>开盘竞价</source>
        <translation>Opening auction</translation>
    </message>
    <message>
        <source>五档即成</source>
        <translation>Best 5 IOC</translation>
    </message>
    <message>
        <source>Tiller 遇到意外错误 (an unexpected error). 账本已保存在数据库中; 详情已写入日志 (details are in the log):
{log}</source>
        <translation>Tiller hit an unexpected error. The books are saved in the database; the details are in the log:
{log}</translation>
    </message>
    <message>
        <source>模拟交易日出错 (the simulated day stopped): {error}</source>
        <translation>The simulated day stopped: {error}</translation>
    </message>
    <message>
        <source>模拟交易日结束 (the simulated day is over)</source>
        <translation>The simulated day is over</translation>
    </message>
</context>
<context>
    <name>ChartPanel</name>
    <message>
        <source>分时</source>
        <translation>Intraday</translation>
    </message>
    <message>
        <source>日K</source>
        <translation>Daily</translation>
    </message>
    <message>
        <source>资金曲线</source>
        <translation>Equity curve</translation>
    </message>
    <message>
        <source>图表数据读取失败 (could not load the chart): </source>
        <translation>Could not load the chart: </translation>
    </message>
</context>
<context>
    <name>FirstRunWizard</name>
    <message>
        <source>欢迎使用 Tiller</source>
        <translation>Welcome to Tiller</translation>
    </message>
    <message>
        <source>下一步</source>
        <translation>Next</translation>
    </message>
    <message>
        <source>上一步</source>
        <translation>Back</translation>
    </message>
    <message>
        <source>完成</source>
        <translation>Finish</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>欢迎</source>
        <translation>Welcome</translation>
    </message>
    <message>
        <source>Tiller 按 BigQuant 策略的计划订单自动下单，并由风控把关。

第一次使用时，先在内置的模拟券商上运行：不连接真实账户，不动用真实资金。熟悉之后，可在“设置”中切换到 QMT 实盘。</source>
        <translation>Tiller places the planned orders of your BigQuant strategies automatically, checked by the risk controls.

The first time, run it on the built-in simulated broker: no real account is connected and no real money is used. Once you are familiar with it, switch to live trading on QMT in Settings.</translation>
    </message>
    <message>
        <source>模拟账户</source>
        <translation>Simulated account</translation>
    </message>
    <message>
        <source>账户名称</source>
        <translation>Account name</translation>
    </message>
    <message>
        <source>初始资金 (元)</source>
        <translation>Starting cash (CNY)</translation>
    </message>
    <message>
        <source>BigQuant (可选)</source>
        <translation>BigQuant (optional)</translation>
    </message>
    <message>
        <source>没有密钥也可以继续：模拟时使用本地的示例信号。</source>
        <translation>You can go on without keys: the simulation uses local sample signals.</translation>
    </message>
    <message>
        <source>可留空</source>
        <translation>Optional</translation>
    </message>
    <message>
        <source>Access Key</source>
        <translation>Access Key</translation>
    </message>
    <message>
        <source>Secret Key</source>
        <translation>Secret Key</translation>
    </message>
    <message>
        <source>策略编号，以逗号分隔，可留空</source>
        <translation>Strategy IDs, comma-separated, optional</translation>
    </message>
    <message>
        <source>跟踪的策略</source>
        <translation>Followed strategies</translation>
    </message>
    <message>
        <source>将以模拟方式运行，账户 {account}，初始资金 {cash} 元。点“完成”保存设置。</source>
        <translation>Tiller will run simulated, account {account}, starting cash {cash} CNY. Click Finish to save the settings.</translation>
    </message>
    <message>
        <source>设置有误，未保存 (not saved): </source>
        <translation>Invalid settings, not saved: </translation>
    </message>
</context>
<context>
    <name>QuotesPanel</name>
    <message>
        <source>输入代码或名称添加自选，如 600000 或 浦发</source>
        <translation>Add to the watchlist by code or name, e.g. 600000</translation>
    </message>
    <message>
        <source>添加</source>
        <translation>Add</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Remove</translation>
    </message>
    <message>
        <source>五档盘口</source>
        <translation>Order book</translation>
    </message>
    <message>
        <source>不是有效的证券代码 (not a valid code): </source>
        <translation>Not a valid code: </translation>
    </message>
</context>
<context>
    <name>RiskSettingsPanel</name>
    <message>
        <source>保存修改</source>
        <translation>Save changes</translation>
    </message>
    <message>
        <source>撤销修改</source>
        <translation>Undo changes</translation>
    </message>
    <message>
        <source>修改记录</source>
        <translation>Change log</translation>
    </message>
    <message>
        <source>交易状态: </source>
        <translation>Trading state: </translation>
    </message>
    <message>
        <source>没有修改 (nothing changed)</source>
        <translation>Nothing changed</translation>
    </message>
    <message>
        <source>已保存 {n} 项风控参数</source>
        <translation>Saved {n} risk settings</translation>
    </message>
    <message>
        <source>风控参数读写失败 (could not read or change the risk settings): </source>
        <translation>Could not read or change the risk settings: </translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>设置</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>BigQuant</source>
        <translation>BigQuant</translation>
    </message>
    <message>
        <source>交易账户 (QMT)</source>
        <translation>Trading account (QMT)</translation>
    </message>
    <message>
        <source>计划时间</source>
        <translation>Schedule</translation>
    </message>
    <message>
        <source>通知</source>
        <translation>Notifications</translation>
    </message>
    <message>
        <source>界面</source>
        <translation>Interface</translation>
    </message>
    <message>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>接口地址</source>
        <translation>API URL</translation>
    </message>
    <message>
        <source>策略编号，以逗号分隔</source>
        <translation>Strategy IDs, comma-separated</translation>
    </message>
    <message>
        <source>跟踪的策略</source>
        <translation>Followed strategies</translation>
    </message>
    <message>
        <source>密钥只保存在系统密钥环中，不写入设置文件。</source>
        <translation>Keys are kept only in the system keyring, never in the settings file.</translation>
    </message>
    <message>
        <source>模拟交易 (内置模拟券商)</source>
        <translation>Simulated (built-in simulated broker)</translation>
    </message>
    <message>
        <source>实盘 (QMT)</source>
        <translation>Live (QMT)</translation>
    </message>
    <message>
        <source>交易模式</source>
        <translation>Trading mode</translation>
    </message>
    <message>
        <source>浏览…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>QMT userdata_mini 路径</source>
        <translation>QMT userdata_mini folder</translation>
    </message>
    <message>
        <source>资金账号</source>
        <translation>Account ID</translation>
    </message>
    <message>
        <source>自动</source>
        <translation>Auto</translation>
    </message>
    <message>
        <source>会话编号</source>
        <translation>Session ID</translation>
    </message>
    <message>
        <source>允许向真实账户下单 (每日仍需单独开启)</source>
        <translation>Allow orders to the real account (still armed separately each day)</translation>
    </message>
    <message>
        <source>界面语言</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>界面语言在下次启动 Tiller 时生效。</source>
        <translation>The language takes effect the next time Tiller starts.</translation>
    </message>
    <message>
        <source> 分钟</source>
        <translation> min</translation>
    </message>
    <message>
        <source>盘中监控间隔</source>
        <translation>Intraday check every</translation>
    </message>
    <message>
        <source>通知渠道</source>
        <translation>Channels</translation>
    </message>
    <message>
        <source>最低通知级别</source>
        <translation>Lowest level to notify</translation>
    </message>
    <message>
        <source>SMTP 服务器</source>
        <translation>SMTP server</translation>
    </message>
    <message>
        <source>SMTP 端口</source>
        <translation>SMTP port</translation>
    </message>
    <message>
        <source>SMTP 用户</source>
        <translation>SMTP user</translation>
    </message>
    <message>
        <source>SMTP 密码</source>
        <translation>SMTP password</translation>
    </message>
    <message>
        <source>发件人</source>
        <translation>From</translation>
    </message>
    <message>
        <source>多个地址以逗号分隔</source>
        <translation>Addresses, comma-separated</translation>
    </message>
    <message>
        <source>收件人</source>
        <translation>To</translation>
    </message>
    <message>
        <source>已设置，留空则不变</source>
        <translation>Set; leave empty to keep</translation>
    </message>
    <message>
        <source>系统密钥环不可用</source>
        <translation>System keyring unavailable</translation>
    </message>
    <message>
        <source>未设置</source>
        <translation>Not set</translation>
    </message>
    <message>
        <source>无法读取系统密钥环 (could not read the keyring): </source>
        <translation>Could not read the keyring: </translation>
    </message>
    <message>
        <source>设置有误，未保存 (not saved): </source>
        <translation>Invalid settings, not saved: </translation>
    </message>
    <message>
        <source>密钥未能保存到系统密钥环 (the keyring refused): </source>
        <translation>The keyring refused the keys: </translation>
    </message>
    <message>
        <source>设置未能保存 (not saved): </source>
        <translation>Settings not saved: </translation>
    </message>
    <message>
        <source>选择 QMT 的 userdata_mini 文件夹</source>
        <translation>Choose QMT&apos;s userdata_mini folder</translation>
    </message>
</context>
<context>
    <name>StrategiesPanel</name>
    <message>
        <source>刷新</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>跟踪的策略</source>
        <translation>Followed strategies</translation>
    </message>
    <message>
        <source>策略读取失败 (could not read the strategies): </source>
        <translation>Could not read the strategies: </translation>
    </message>
</context>
</TS>
