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
T PulseWatch 5 will not pair with the phone
C still paired to an old phone, so it refuses a new one; the companion app lacks Bluetooth or nearby-devices permission; the phone's battery saver blocks background Bluetooth
S {dev} won't pair with my new phone; the app can't find {dev} during setup; pairing {dev} fails at the last step
1 Turn on {Bluetooth} on the phone and give the companion app the nearby-devices and location permissions it asks for.
2 {Unpair|remove} the watch from the old phone's Bluetooth list and from the old companion app, if you still have it.
3 On the watch, go to Settings > System > {Reset|factory reset}: a watch paired to another phone will not accept a new one until it is reset.
4 Open the {companion app|app} and choose Add watch, keeping the phone within a metre of the watch.
5 Check that the six-digit {pairing code|code} matches on both screens and accept it on each.

== notifications_missing pw5 guide
T Phone notifications do not arrive on the watch
C the companion app has no notification access; do not disturb or sleep mode on the watch; the phone's battery optimisation stops the app in the background
S {dev} doesn't show my notifications anymore; messages don't come through to {dev}; {dev} stopped buzzing for texts
1 On the phone, grant the companion app {notification access|notifications} (Settings > Apps > Special access on Android).
2 Turn off {do not disturb|dnd} and sleep mode on both the watch and the phone.
3 Exclude the companion app from {battery optimisation|battery optimization|battery saver} so the phone does not close it.
4 In the companion app's notification list, switch on the {apps} you want mirrored to the watch.
5 Keep the watch within Bluetooth range of the phone: notifications need an active {connection|connected}.

== battery_drain pw5 faq
T Watch battery lasts less than a day
C always-on display; a GPS workout left running; continuous heart-rate and blood-oxygen sampling; a watch face with animations
S {dev} battery dies in half a day; {dev} doesn't last a day anymore; {dev} drains overnight even when I'm asleep
1 Turn off the {always-on display|always on} or set a shorter screen timeout.
2 Open the workout app and end any {GPS|workout} session still running in the background.
3 Set {heart rate|blood oxygen|spo2} measurement to every 10 minutes instead of continuous.
4 Switch to a simple {watch face|face} without animations or live weather.
5 Install the latest {firmware|update}, which often fixes battery drain bugs.

== wont_charge band manual
T PulseFit band does not charge on its cradle
C sweat and skin oil on the charging pins; the band not clicked into the cradle; a USB port or adapter that gives no power
S {dev} won't charge on the cable; {dev} charger doesn't seem to work; {dev} shows no battery icon when plugged in
1 Wipe the {charging pins|pins} on the back of the band and in the cradle with a cloth lightly dampened with isopropyl alcohol and let them dry.
2 Seat the band so the pins line up and it {clicks|click|snaps} into the cradle.
3 Plug the cable into a {wall adapter|adapter} rather than a keyboard or monitor USB port.
4 Leave it for {30 minutes}: a fully flat band can take a while before the battery icon shows.

== heart_rate_inaccurate band guide
T Heart rate readings look wrong
C band worn too loose or on the wrist bone; tattoos or dark ink under the sensor; cold skin reducing blood flow; rhythmic arm motion in some sports
S {dev} heart rate is way off; {dev} shows 180 bpm when I'm walking; the heart rate on {dev} jumps around
1 Wear the band one {finger width|finger} above the wrist bone, not on it.
2 {Tighten|snug} the strap a notch during workouts so the sensor stays against the skin.
3 Wipe the {sensor} window on the back with a soft cloth.
4 Warm up for a few minutes in {cold weather|cold}: cold skin gives weak readings.
5 For interval training or weights, pair a {chest strap|chest} heart-rate sensor for accurate readings.

== gps_inaccurate pw5 faq
T GPS track is wrong or distance too short
C starting before the watch has a satellite fix; satellite data not synced for days; tall buildings or tree cover
S {dev} gps map zig zags everywhere; {dev} says I ran 4 km but it was 5; {dev} gps distance is wrong
1 Wait on the start screen until the {GPS|gps fix} indicator turns green before starting the run.
2 {Sync|syncing} the watch with the app before runs so it has fresh satellite data (A-GPS).
3 Switch the satellite mode to {all systems|multi-band|gnss} for cities and forests.
4 Wear the watch on the {outside|top} of the wrist and not under a thick sleeve.

== steps_count_wrong band faq
T Step count too high or too low
C band set to the wrong wrist; wrong height so stride is off; band worn loose
S {dev} counts way too many steps; {dev} misses steps when I push a trolley; my step count on {dev} is wrong
1 Set the {wrist} setting in the app to the wrist you actually wear the band on.
2 Enter your correct {height} so stride length is estimated properly.
3 Wear the band {snug|tight} rather than loose so it does not swing.
4 Remember that pushing a trolley or pram hides arm swing, so those {steps} are often missed.

== swollen_battery pw5 manual safety
T Screen lifting away from the watch body
C the lithium-ion battery inside the watch is swelling
S the screen of {dev} is lifting on one side; {dev} looks bulged underneath; the glass on {dev} popped up
1 Take the watch off and {stop using|stop} it straight away: a lifting screen means the battery is swelling.
2 Do not put it on the {charger|charging} again.
3 Keep it on a non-flammable surface such as a ceramic plate, away from heat and {flammable|burn} materials.
4 {Contact support|support|manufacturer} for a replacement and ask how to recycle the battery safely.
E any lifting screen, bulge, heat or hissing
U press the screen back on; glue the screen down; puncture the battery; keep wearing it until it stops working

== skin_burn band faq safety
T Band became hot on the wrist or left a burn
C a charging fault or damaged battery heating the band; pins corroded by sweat
S {dev} burned my wrist; {dev} got really hot on my arm; {dev} left a red mark that looks like a burn
1 {Take it off|remove} immediately and do not put it back on.
2 {Stop using|stop} the band and do not charge it again.
3 Cool the skin under running water and get {medical|doctor} advice if the skin blisters.
4 {Contact support|support|manufacturer} and report the heating so the band can be replaced.
E the band heated up on the skin or left a burn
U keep wearing it; put it back on after it cools down; charge it again to check

== lte_no_service lte guide
T LTE watch shows no mobile service
C the eSIM was never activated; the phone plan does not include a watch line; airplane mode; poor coverage
S {dev} says no service; {dev} can't make calls without my phone nearby; mobile data on {dev} doesn't work
1 In the companion app, open Mobile and check the {eSIM|esim} shows as activated.
2 Confirm with your carrier that your {plan} includes a watch number-share line.
3 Toggle {airplane mode|airplane} on and off on the watch.
4 {Restart|reboot} the watch and test in an area with good phone coverage.
5 If activation failed, remove the {mobile plan|plan} in the app and add it again.

== sleep_tracking_missing band faq
T Sleep is not recorded
C band too loose at night; battery died overnight; sleep tracking switched off
S {dev} doesn't track my sleep; {dev} has no sleep data in the morning; {dev} says I slept 2 hours
1 Wear the band {snug|tight} at night so the sensor touches the skin.
2 {Charge|charging} it to at least 30 % before bed.
3 Check {sleep tracking|sleep} is turned on in the app.
4 Open the app in the morning to {sync|syncing} the night's data.

== screen_unresponsive pw5 faq
T Touchscreen does not respond to taps
C water lock left on after swimming; water or sweat on the glass; a thick screen protector; a frozen app
S the screen on {dev} doesn't respond; {dev} is frozen on one screen; {dev} ignores my taps
1 Check for the water drop icon and turn off {water lock|water} by holding the crown.
2 Dry the {screen|glass} with a cloth: drops of water confuse the touch sensor.
3 Remove any thick {screen protector|protector}.
4 {Force restart|restart} by holding the crown and side button for 15 seconds.

== water_lock_stuck pw5 faq
T Water lock will not switch off
C the crown is pressed instead of held; water still inside the speaker port
S {dev} is stuck in water lock; {dev} won't unlock after swimming; the water drop icon won't go away on {dev}
1 Press and {hold the crown|hold} for 3 seconds until the water is ejected with a tone.
2 {Dry|towel} the watch and the crown with a soft towel.
3 {Restart|reboot} the watch if the icon stays.
4 Install the latest {firmware|update}.

== watch_face_wont_sync pw5 faq
T New watch face will not sync to the watch
C Bluetooth paused; companion app cache; face incompatible with the firmware
S {dev} won't change to the new face; {dev} face stuck on the old one; {dev} doesn't sync watch faces
1 Pull down in the app to {sync|syncing} manually while the watch is near.
2 Force-close the companion app and {restart|reopen} it.
3 Remove the {face} from the watch and install it again.
4 {Update|firmware} the watch: some faces need newer firmware.

== music_wont_play_headphones lte faq
T Music on the watch will not play through Bluetooth headphones
C headphones paired to the phone, not to the watch; playlist not downloaded to the watch
S {dev} won't play music to my earbuds; music on {dev} doesn't work on a run; my headphones won't connect to {dev}
1 Put the headphones in pairing mode and pair them to the {watch} in its Bluetooth menu.
2 Turn off Bluetooth on the {phone} so the headphones do not reconnect to it.
3 {Download|sync} the playlist to the watch over Wi-Fi.
4 {Restart|reboot} the watch and try again.

== wont_turn_on pw5 faq
T Watch does not turn on
C battery completely flat; crashed firmware; dirty charging contacts
S {dev} won't turn on; {dev} is dead; {dev} screen stays black
1 {Charge|charging} on the magnetic charger for at least 30 minutes.
2 Hold the {crown} and side button together for 15 seconds to force a restart.
3 Clean the {charging contacts|contacts} on the back and the charger.
4 Try another {charger} or power adapter.
E the watch shows no charging sign after 30 minutes on two chargers

== payments_fail lte faq
T Contactless payments fail at the till
C no screen lock on the watch; card removed after a bank change; watch held too far from the reader
S payments with {dev} fail; {dev} says card declined at the shop; contactless pay on {dev} doesn't work
1 Set a screen lock {PIN} on the watch: payments need it.
2 Remove and {re-add|add} the card in the wallet app.
3 Hold the watch face {close|near} the reader for a few seconds.
4 Check with your {bank} that it supports watch payments.

== alarm_not_vibrating band faq
T Alarm does not vibrate
C do not disturb blocks alarms in some settings; vibration strength low; alarm not synced
S {dev} alarm doesn't vibrate; {dev} didn't wake me up; the alarm on {dev} was silent
1 Check that {do not disturb|dnd} is not set to block alarms.
2 Raise the {vibration} strength in the app.
3 {Sync|syncing} the band after setting the alarm so it is saved on the band.
4 {Charge|charging} the band: low battery mode can suppress vibration.

== weather_not_updating pw5 faq
T Weather on the watch does not update
C the companion app has no location permission; background refresh off
S the weather on {dev} is wrong; {dev} weather not updating; {dev} shows yesterday's weather
1 Allow the companion app {location} permission "all the time".
2 Turn on {background refresh|refresh} for the app.
3 Open the app to {sync|syncing} the watch.
4 {Restart|reboot} the watch if it still shows old data.

== water_damage_charging lte forum safety
T Watch hot or smelling after charging while wet
C charged straight after swimming or sweating; corrosion on the charging contacts
S {dev} got hot on the charger after a swim; {dev} smells burnt after charging; the pins on {dev} are corroded
1 {Unplug|disconnect} the charger from the wall and take the watch off the charger.
2 {Stop charging|stop} the watch until it has been checked.
3 Let it {dry|air dry} at room temperature for several hours, and never charge it wet.
4 {Contact support|support|manufacturer} if there is heat damage, a smell or green corrosion on the contacts.
E heat, smell, corrosion
U charge it while it is wet; use a hair dryer on hot; put it in rice and charge it anyway

"""
