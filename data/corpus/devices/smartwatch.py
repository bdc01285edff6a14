"""Smartwatches and activity bands. Original text written for Mighty."""

DEVICE = "smartwatch"
NOUNS = ["my smartwatch", "my {short}", "my watch", "the watch", "my fitness watch"]
FAMILIES = {
    "pw5": ("PulseWatch 5 GPS smartwatch", "PulseWatch 5"),
    "lte": ("PulseWatch 5 LTE smartwatch", "PulseWatch 5 LTE"),
    "band": ("PulseFit activity band", "PulseFit band"),
}
UNSAFE = ["puncture the battery", "pry the back off", "charge it while it is wet"]
ESCALATION = ["the watch still fails after a factory reset", "the screen is cracked or the back is lifting"]

ISSUES = """
== wont_pair_phone pw5 manual
T Watch will not pair with the phone
C still paired to an old phone; companion app lacks Bluetooth permission; watch not reset
S {dev} won't pair with my phone; the app can't find {dev}; {dev} pairing fails
1 Turn on {Bluetooth} and location on the phone.
2 {Unpair|remove} the watch from any old phone or app.
3 {Reset|factory reset} the watch from Settings > System > Reset.
4 Open the {companion app|app} and add the watch, keeping both close.
5 Accept the {pairing code|code} on both screens.

== notifications_missing pw5 guide
T Notifications do not arrive on the watch
C notification access off; DND; phone battery optimisation
S {dev} doesn't show notifications; messages don't come to {dev}; {dev} stopped buzzing for texts
1 Allow {notification access|notifications} for the companion app.
2 Turn off {do not disturb|dnd} on watch and phone.
3 Disable {battery optimization|battery saver} for the app.
4 Select which {apps} notify the watch.

== battery_drain pw5 faq
T Battery drains in under a day
C always-on display; continuous GPS; high heart rate sampling
S {dev} battery dies fast; {dev} doesn't last a day; {dev} drains overnight
1 Turn off {always-on display|always on}.
2 Stop {GPS|gps} workouts you forgot to end.
3 Lower {heart rate|hr} sampling.
4 {Update|firmware}.

== wont_charge band faq
T Band does not charge
C dirty pins; misaligned charger
S {dev} won't charge; {dev} charger doesn't work; {dev} not charging
1 Clean the {pins|contacts}.
2 Align the {charger|magnetic}.
3 Use a {USB port|usb} that gives power.
4 Leave it {30 minutes|30}.

== heart_rate_inaccurate band guide
T Heart rate reads wrong
C loose fit; tattoos; cold skin
S {dev} heart rate is wrong; {dev} shows weird bpm; {dev} heart rate jumps
1 Wear the band one {finger|finger width} above the wrist bone.
2 {Tighten|snug} the strap during workouts.
3 Clean the {sensor}.
4 Warm up your {skin|wrist} in cold weather.

== gps_inaccurate pw5 faq
T GPS track is inaccurate
C no satellite lock; A-GPS not synced
S {dev} gps is off; {dev} track zig zags; {dev} distance wrong
1 Wait for a {GPS lock|gps fix} before starting.
2 {Sync|syncing} the watch with the app.
3 Use {GPS + GLONASS|all systems} mode.
4 {Update|firmware}.

== steps_count_wrong band faq
T Step count is wrong
C wrong wrist setting
S {dev} counts steps wrong; {dev} steps too high; {dev} misses steps
1 Set the {wrist} setting to the wrist you wear it on.
2 Update your {height|stride}.
3 Wear it {snug|tight}.
4 {Update|firmware}.

== swollen_battery pw5 manual safety
T Screen lifting from a swollen battery
C lithium cell swelling
S the screen of {dev} is lifting; {dev} is bulging; {dev} back popped off
1 {Stop using|stop} the watch.
2 Do not {charge|charging} it.
3 Place it on a {non-flammable|fireproof} surface.
4 {Contact support|support}.
E any swelling or lifting
U press the screen back on; glue the screen; puncture the battery

== skin_burn band faq safety
T Band hot on the skin or caused a burn
C charging fault; damaged battery
S {dev} burned my wrist; {dev} got really hot on my arm; {dev} left a red mark from heat
1 {Take it off|remove} immediately.
2 {Stop using|stop} and stop charging it.
3 Seek {medical|doctor} advice for a burn.
4 {Contact support|support}.
E heat or burn
U keep wearing it; put it back on after it cools

== lte_no_service lte guide
T No cellular service on the LTE watch
C eSIM not activated; plan not included
S {dev} says no service; {dev} can't call without my phone; {dev} mobile data doesn't work
1 Check the {eSIM|esim} is activated in the app.
2 Confirm the {carrier plan|plan} includes the watch.
3 Toggle {airplane mode|airplane}.
4 {Restart|reboot}.

== sleep_tracking_missing band faq
T Sleep not tracked
C band too loose; low battery
S {dev} doesn't track sleep; {dev} sleep data missing; {dev} no sleep
1 Wear it {snug|tight}.
2 {Charge|charging} before bed.
3 Turn on {sleep tracking|sleep}.
4 {Sync|syncing} in the morning.

== screen_unresponsive pw5 faq
T Touchscreen does not respond
C water lock; screen protector
S {dev} screen doesn't respond; {dev} frozen; {dev} ignores taps
1 Turn off {water lock|water}.
2 Dry the {screen}.
3 Remove the {screen protector|protector}.
4 {Force restart|restart}.

== water_lock_stuck pw5 faq
T Water lock will not turn off
C button press wrong
S {dev} stuck in water lock; {dev} won't unlock after swim; {dev} water drop icon
1 Hold the {crown|button} for 3 seconds.
2 {Dry|towel} the watch.
3 {Restart|reboot}.
4 {Update|firmware}.

== watch_face_wont_sync pw5 faq
T Watch face will not sync
C app cache
S {dev} won't change face; {dev} face stuck; {dev} doesn't sync face
1 {Sync|syncing} manually.
2 {Restart|reboot} the app.
3 Reinstall the {face}.
4 {Update|firmware}.

== music_wont_play_headphones lte faq
T Music will not play to Bluetooth headphones
C headphones paired to phone
S {dev} won't play music to my earbuds; {dev} music doesn't work; {dev} headphones won't connect
1 Pair the headphones to the {watch} directly.
2 Disconnect from the {phone}.
3 Download {music|playlist} to the watch.
4 {Restart|reboot}.

== wont_turn_on pw5 faq
T Watch will not turn on
C flat battery
S {dev} won't turn on; {dev} is dead; {dev} black screen
1 {Charge|charging} 30 minutes.
2 Hold the {button|crown} 15 seconds.
3 Clean the {pins|contacts}.
4 Try another {charger}.

== payments_fail lte faq
T Contactless payments fail
C card not added; no PIN
S {dev} payments fail; {dev} card declined; {dev} pay doesn't work
1 Set a {PIN|lock screen}.
2 Re-add the {card}.
3 Hold the watch {close|near} the reader.
4 Contact the {bank}.

== alarm_not_vibrating band faq
T Alarm does not vibrate
C DND; vibration strength
S {dev} alarm doesn't vibrate; {dev} didn't wake me; {dev} alarm silent
1 Check {do not disturb|dnd}.
2 Raise {vibration} strength.
3 {Sync|syncing} alarms.
4 {Charge|charging}.

== weather_not_updating pw5 faq
T Weather does not update
C location permission
S {dev} weather wrong; {dev} weather not updating; {dev} shows old weather
1 Allow {location} permission.
2 Turn on {background refresh|refresh}.
3 {Sync|syncing}.
4 {Restart|reboot}.

== water_damage_charging lte forum safety
T Watch hot or smelling after charging while wet
C charging wet; corrosion
S {dev} got hot charging after a swim; {dev} smells burnt; {dev} pins corroded
1 {Unplug|disconnect} the charger.
2 {Stop charging|stop}.
3 {Dry|air dry} it for hours.
4 {Contact support|support}.
E heat, smell, corrosion
U charge it while it is wet; use a hair dryer on hot
"""
