"""True wireless earbuds with a charging case. Original text written for Mighty."""

DEVICE = "true_wireless_earbuds"
NOUNS = ["my earbuds", "my {short} earbuds", "my wireless earbuds", "my buds", "the {short}s", "my earphones"]
FAMILIES = {
    "air2": ("PodPair Air 2-series earbuds", "PodPair Air 2"),
    "sport": ("PodPair Sport ear-hook earbuds", "PodPair Sport"),
    "pro900": ("AcoustiQ Pro Buds 900 noise-cancelling earbuds", "Pro Buds 900"),
}
UNSAFE = ["puncture the battery", "pry the case open", "stick a pin in the charging contacts"]
ESCALATION = ["the problem remains after resetting the earbuds in the case and updating the firmware",
              "a bud or the case is cracked or has been dropped in water"]

ISSUES = """
== wont_pair air2 manual
T Air 2 earbuds do not appear when pairing with a new phone
C buds not in the case with the lid open; still connected to the old phone; buds out of sync with each other
S {dev} don't show up in Bluetooth on my new phone; can't pair {dev} with my tablet; {dev} won't go into pairing mode
1 Put {both earbuds|both buds} in the charging case and leave the lid open.
2 Press and hold the {case button|button on the case} on the back for 3 seconds until the case light flashes white.
3 On the phone, open Settings > Bluetooth, {forget|remove} any old "Air 2" entry and select the new one.
4 If the light flashes amber instead, {reset|factory reset} by holding the case button for 15 seconds until it flashes amber then white, then pair again.
5 Turn off Bluetooth on the {old phone|previous phone|other devices} if the buds keep reconnecting to it.

== wont_pair sport manual
T Sport ear-hook earbuds will not enter pairing mode
C this model's case has no button, pairing starts from the buds; buds still linked to a previous device; one bud not charged
S {dev} won't go into pairing mode, there's no button on the case; I can't pair {dev} to my watch or phone; {dev} never show up on my laptop
1 Charge the case and buds for 15 minutes so {both buds|both} have power.
2 Take both buds out of the case and put them on; they should {connect to each other|link|sync} with a tone.
3 Touch and hold {both touch panels|touch panels} for 7 seconds until you hear "pairing".
4 Select "PodPair Sport" on the phone and {confirm|accept} the request.
5 If nothing is heard, return them to the case, close the lid for 10 seconds and repeat the {touch and hold|hold}.

== one_bud_not_working air2 guide
T Only one earbud plays sound
C the silent bud lost its link to the primary bud; dirty charging contacts so it is flat; balance setting; clogged speaker mesh
S only the left bud of {dev} works; the right one of {dev} has no sound; {dev} only play in one ear
1 Put both buds in the case for 10 minutes and check each shows a {charging light|charging}.
2 Clean the {charging contacts|contacts} on the bud and in the case with a dry cotton swab.
3 Check the phone's {balance} slider and mono audio setting in accessibility.
4 Look at the silent bud's {speaker mesh|mesh|earwax}: clear earwax with a dry soft brush, not a pin.
5 {Forget|remove} the buds on the phone, {reset|factory reset} them in the case (case button 15 s) and pair again.

== one_bud_not_charging air2 faq
T One earbud does not charge in the case
C earwax or skin oil on the charging contacts; the bud not seated on the pins; a worn ear tip lifting the bud
S one of {dev} is always dead when I take it out of the case; the left bud of {dev} doesn't charge; {dev} only charge one side
1 Remove the {ear tip|tip} and check the bud sits flat on the pins in the case.
2 Wipe the {contacts|charging contacts} on the bud and in the case with a cotton swab lightly dampened with isopropyl alcohol, then let them dry.
3 Close the lid and check the {indicator|light|led} shows the bud charging.
4 {Reset|factory reset} the buds in the case and test again.
E the bud still does not charge with clean contacts

== case_not_charging pro900 faq
T Charging case does not charge by cable or wireless pad
C cable or adapter faulty; case misaligned on the wireless pad; debris in the USB-C port; battery at the end of its life
S the case for {dev} won't charge; the light on {dev} case doesn't come on with the cable; {dev} case doesn't charge on my wireless charger
1 Try another {cable} and a 5 V USB adapter, and watch for the case light.
2 Check the {USB-C port|port} for lint and clear it with a wooden toothpick.
3 On a wireless pad, {centre|center|align} the case with the light facing up and remove thick covers.
4 Leave it charging for {30 minutes} before judging: a flat case may not light at first.
E the case gets hot, or still will not charge after 30 minutes with two cables

== buds_out_of_sync sport forum
T Buds do not connect to each other; only one plays
C one bud was used alone and became primary; the pair link was lost after a reset of only one bud
S {dev} won't talk to each other anymore, only one connects; {dev} act like two separate devices; one of {dev} says connected and the other doesn't
1 {Forget|remove} every "PodPair Sport" entry on the phone.
2 Put both buds in the case, close the lid, wait 10 seconds, then take {both|both buds} out at the same time.
3 Touch and hold both panels for 15 seconds to {reset|factory reset} the pair; the LEDs flash to confirm.
4 Wait until the buds {link|sync|connect} with a tone, then pair with the phone.

== connection_drops pro900 guide
T Earbuds cut out in busy places or outdoors
C body blocking the signal; crowded 2.4 GHz spectrum; high-quality codec
S {dev} keep dropping out when I walk outside; the sound on {dev} cuts out at the train station; {dev} stutter when my phone is in my pocket
1 Keep the phone in a {front pocket|pocket on the same side|same side} as the primary bud.
2 Switch the app's {connection priority|stable connection|priority} to stability instead of sound quality.
3 {Update|firmware} the buds and restart the phone.
4 {Forget|unpair} the buds and pair again to refresh the link.

== low_volume air2 faq
T Earbuds sound too quiet even at maximum volume
C earwax on the speaker mesh; the phone's headphone safety limit; EQ preset lowering volume; wrong ear tip size
S {dev} are way too quiet even at full volume; I can barely hear {dev}; {dev} got quieter over time
1 Inspect the {speaker mesh|mesh|earwax} and gently clean earwax with a dry soft brush.
2 Turn off the phone's {volume limit|reduce loud audio|loud audio} for headphones.
3 Reset the app {EQ|equaliser|equalizer} to flat.
4 Try a larger {ear tip|tip|tips}: a loose fit loses a lot of volume and bass.

== mic_not_working_calls pro900 faq
T Caller cannot hear me through the earbuds
C mic ports blocked; phone app set to phone microphone; call app missing microphone permission
S people can't hear me on calls with {dev}; the mic on {dev} doesn't work; my voice doesn't come through {dev}
1 Check the {microphone ports|mic ports|microphone} on the stem are not blocked by dirt or a case.
2 During the call, choose the {earbuds|buds} as the audio route.
3 Give the call app {microphone permission|permission|microphone} in phone settings.
4 Try a call with {only one bud|one bud|single bud} to see if one mic is at fault.
5 {Reset|factory reset} the buds and update them.

== anc_weak pro900 guide
T Noise cancelling on the earbuds feels weak
C ear tips too small so there is no seal; ANC level low; transparency mode on
S the noise cancelling on {dev} is weak; {dev} don't block out my office anymore; I can hear the bus engine with ANC on {dev}
1 Run the {ear tip fit test|fit test|fit} in the app.
2 Try the next {larger tip|larger|tips} size on both sides if the test fails.
3 Make sure the mode is {noise cancelling|anc}, not transparency.
4 Clean the {outer microphone|microphone|mic} openings and update the firmware.

== falling_out sport faq
T Sport earbuds fall out during exercise
C wrong tip size; ear hook not adjusted; bud inserted at the wrong angle
S {dev} keep falling out when I run; {dev} won't stay in my ears at the gym; {dev} feel loose
1 Try each {ear tip|tips} size and pick the one that seals without pressure.
2 {Twist|rotate} the bud slightly backwards after inserting so it locks in the ear.
3 Bend the {ear hook|hook} gently to follow the back of your ear.
4 Check the fit with the app's {fit test|test}.

== battery_drain_in_case air2 guide
T Case battery drains fast while the buds are in it
C a bud not seating so it keeps charging and waking; lid magnet not detected; old firmware
S {dev} case dies in a day without using them; the case of {dev} loses charge overnight; {dev} case drains too fast
1 Make sure both buds {click|seat|sit} into place and the lid closes fully.
2 Clean the {contacts} so the buds stop reconnecting.
3 Check the case {lid|magnet} closes flat with nothing in the way.
4 {Update|firmware} the buds from the app.

== touch_controls_accidental pro900 forum
T Touch controls trigger by accident
C sensitive touch areas; adjusting the bud fit; hair or hat brushing
S {dev} pause every time I adjust them; touching {dev} keeps skipping songs; {dev} answer calls by accident
1 Hold the bud by the {stem|edge} when adjusting fit.
2 In the app, change single taps to {double tap|double-tap|tap}.
3 Disable {touch controls|touch} you don't use.
4 {Update|firmware} the buds.

== crackling_audio air2 faq
T Crackling or popping in the earbuds
C earwax on mesh; radio interference; low battery
S {dev} crackle; popping noise in {dev}; {dev} have static
1 {Clean|cleaning} the speaker meshes gently with a dry brush.
2 {Charge|charging} the buds and case.
3 Move away from {interference|wi-fi|router} and other Bluetooth devices.
4 {Reset|factory reset} the buds in the case and pair again.

== case_swollen_or_hot air2 faq safety
T Charging case is swollen, cracked or very hot
C lithium-ion battery in the case swelling or failing
S the case of {dev} is bulging and the lid won't close; {dev} case got really hot and smells weird; the case of {dev} split open at the seam
1 {Stop using|stop} the case and do not charge it again.
2 {Unplug|disconnect} any cable and move the case onto a non-flammable surface away from heat.
3 Do not press, open or puncture the case: a swollen {battery|lithium} can catch fire.
4 {Contact support|support|manufacturer} for a replacement case and safe battery recycling.
E any swelling, heat, hissing or smell from the case
U keep charging it; squeeze the lid shut; puncture the battery to let the air out; put it in the freezer

== water_damage_charging sport forum safety
T Wet or sweaty buds corroding or getting hot in the case
C buds put in the case wet after exercise or rain; corrosion on contacts; charging with liquid on the pins
S I put {dev} in the case wet and now it's hot; {dev} got soaked and the case smells burnt; green crust on the contacts of {dev} after charging wet
1 {Stop charging|stop} immediately and unplug the case.
2 Take the buds out and let everything {dry|air dry} with the lid open for several hours.
3 Do not charge again if there is {corrosion|green|burn} or a burning smell.
4 {Contact support|support|manufacturer} about a replacement.
E heat, smoke, a burning smell or corrosion on the pins
U put them in a hair dryer on high; charge them while wet; put them in the microwave to dry

== audio_lag air2 faq
T Audio is out of sync with video or games
C Bluetooth latency; game mode off
S {dev} lag behind videos; {dev} are delayed in games; sound is late with {dev}
1 Turn on {game mode|low latency} in the app.
2 Restart the {video app|app} to let it resync.
3 Update the {phone|operating system} and the bud firmware.
4 {Forget|unpair} and re-pair the buds.

== wont_connect_to_laptop pro900 guide
T Earbuds will not pair or connect with a Windows laptop
C outdated Bluetooth driver; Swift Pair pop-up missed; stale pairing
S {dev} won't connect to my laptop; my PC can't find {dev}; {dev} pair with the laptop but there's no sound
1 Open Settings > Bluetooth & devices, {remove|forget} the buds if listed.
2 Put the buds in {pairing mode} from the case button.
3 Choose {Add device|add}, then Bluetooth, and select the buds.
4 If no sound, set the buds as the {output device|output} in Sound settings.
5 Update the laptop's {Bluetooth driver|driver}.

== firmware_update_stuck pro900 faq
T Earbud update stuck or failing
C buds out of the case; case battery low; phone moving away
S {dev} update won't finish; {dev} firmware is stuck; the app says update failed on {dev}
1 Put both buds in the {case|charging case} with the lid open and the case charging.
2 Keep the phone {close|near} with the app in the foreground.
3 {Restart|power cycle} the phone and try again.
4 Close the lid for 30 s and {retry|try again}.

== ear_detection_not_working pro900 forum
T Music keeps playing when the bud is taken out
C in-ear detection off; sensor window dirty
S {dev} don't pause when I take one out; {dev} keep playing after I remove them; in-ear detection on {dev} broken
1 Turn on {in-ear detection|ear detection} in the app.
2 Clean the {sensor} window on each bud with a dry cloth.
3 {Restart|power cycle} the buds in the case.
4 {Update|firmware} the buds.

== echo_on_calls sport faq
T Other people hear an echo of themselves
C volume too high with open fit; sidetone
S people hear themselves echo when I use {dev}; there's an echo on calls with {dev}; callers hear an echo through {dev}
1 Lower the call {volume} a few steps.
2 Improve the {seal|fit} with a larger ear tip.
3 Turn off {sidetone|hear myself} in the app.
4 {Update|firmware} the buds.
"""
