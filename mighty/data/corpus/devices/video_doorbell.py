"""Video doorbells (wired and battery) and outdoor security cameras. Original text written for Mighty."""

DEVICE = "video_doorbell"
NOUNS = ["my video doorbell", "my {short}", "my doorbell camera", "the doorbell", "my {short} camera"]
FAMILIES = {
    "wired": ("GateView wired video doorbell", "GateView Wired"),
    "battery": ("GateView battery video doorbell", "GateView Battery"),
    "cam": ("GateView outdoor security camera", "GateView Cam"),
}
UNSAFE = ["bypass the breaker", "connect it straight to mains power", "work on the doorbell wiring with the transformer live",
          "puncture the battery"]
ESCALATION = ["the doorbell still fails after a reset and a check of the power supply",
              "the transformer, chime or doorbell shows heat damage or a burning smell"]

ISSUES = """
== chime_not_ringing wired manual
T Indoor chime does not ring when the wired doorbell is pressed
C chime type set wrong in the app; chime power kit not installed; a loose wire at the chime
S the chime doesn't ring with {dev}; my phone rings but the chime in the hall stays silent with {dev}; {dev} doesn't ring the bell in the house
1 In the app, set the {chime type|chime} to Mechanical or Digital to match the chime in your house, or None if there is none.
2 Check the {chime power kit|power kit} is installed inside the chime box as shown in the guide.
3 Turn off the doorbell {breaker|transformer}, then check the Front and Trans wires are tight at the chime.
4 Restore power and press the button to {test|ring} the chime.

== low_power_transformer wired guide
T Doorbell reboots or shows a low-power warning
C existing 10 VA transformer cannot supply enough power; voltage below 16 V AC
S {dev} keeps rebooting when someone presses it; {dev} says low power; {dev} goes offline when it rings
1 Check the {power|voltage} reading in Device Health: it should be 16-24 V AC.
2 Find the doorbell {transformer} (near the breaker panel, furnace or chime) and read its label.
3 If it is below 16 V or 30 VA, have an {electrician} fit a 16-24 V AC, 30 VA transformer: the primary side is mains voltage.
4 Check the {wires|wiring} at the doorbell are tight and not corroded.

== offline_wifi battery faq
T Battery doorbell keeps going offline
C weak Wi-Fi at the front door; metal door frame; 5 GHz network
S {dev} keeps going offline; {dev} can't connect to wifi; {dev} says device offline
1 Check the {signal|rssi} in Device Health; aim for better than -60 dBm.
2 Add a {chime extender|extender|mesh node} near the door.
3 Make sure it uses {2.4 GHz|2.4ghz}.
4 Reconnect it in the app with {Wi-Fi settings|reconnect}.

== battery_drains_fast battery guide
T Battery needs charging every few days
C busy street triggers constant motion; live view used often; cold weather; weak Wi-Fi
S {dev} battery dies in days; {dev} drains too fast; I have to charge {dev} every week
1 Reduce {motion sensitivity|sensitivity} and set motion zones away from the street.
2 Limit {live view} usage.
3 Improve Wi-Fi {signal}.
4 Expect shorter life in {cold|winter} weather.

== too_many_motion_alerts cam faq
T Camera sends too many motion alerts
C trees, cars, or shadows; high sensitivity
S {dev} alerts all day; {dev} keeps detecting cars; I get too many notifications from {dev}
1 Draw {motion zones|zones} to exclude the road and trees.
2 Turn on {person detection|people only}.
3 Lower {sensitivity}.
4 Set a {schedule}.

== no_motion_alerts battery faq
T No motion alerts on the phone
C notifications off; motion off; schedule
S {dev} doesn't notify me; I don't get alerts from {dev}; {dev} doesn't record motion
1 Allow app {notifications} in phone settings.
2 Turn on {motion detection|motion}.
3 Check {schedules|schedule} and snooze.
4 Increase {sensitivity}.

== night_vision_blurry cam guide
T Night image blurry or white
C IR reflection from glass, eaves or walls; spider webs; dirty lens
S {dev} night vision is blurry; {dev} is white at night; {dev} shows fog at night
1 Clean the {lens} with a soft cloth.
2 Remove {spider webs|cobwebs}.
3 Remove the camera from behind {glass|window}.
4 Angle it away from {walls|eaves}.

== live_view_slow battery faq
T Live view slow to load
C battery cam waking; weak Wi-Fi
S {dev} live view takes forever; {dev} won't load live; {dev} live view fails
1 Improve Wi-Fi {signal}.
2 Use {Wi-Fi|wifi} on the phone.
3 Update the {app}.
4 {Restart|reboot} the router.

== wont_charge_in_cold battery faq
T Battery will not charge in cold weather
C lithium battery charging blocked below 0 °C
S {dev} won't charge in winter; {dev} charging stuck; {dev} battery doesn't charge
1 Bring the battery {indoors|inside}.
2 Let it warm to {room temperature|warm} before charging.
3 Use the supplied {cable}.
4 {Charge|charging} fully before reinstalling.

== setup_fails wired faq
T Doorbell setup fails
C no power; wrong password; Bluetooth off
S setting up {dev} fails; app can't find {dev}; {dev} setup error
1 Check {power|led} at the doorbell.
2 Turn on {Bluetooth|bluetooth}.
3 Verify the Wi-Fi {password}.
4 {Reset|factory reset} the doorbell.

== clips_not_recording cam faq
T Camera does not save clips
C no subscription or no storage
S {dev} doesn't save videos; {dev} clips missing; {dev} has no recordings
1 Check {subscription|plan}.
2 Insert a {microSD|sd card} card.
3 Turn on {recording}.
4 Check {storage|full} space.

== microsd_not_detected cam guide
T microSD card not detected
C unsupported format; capacity
S {dev} doesn't see my sd card; {dev} says no card; {dev} sd card error
1 {Format|formatting} the card in the app.
2 Use a card up to {256 GB|256gb}.
3 Reseat the {card}.
4 Try another {card}.

== two_way_audio_echo wired faq
T Echo during two-way talk
C speaker volume high
S {dev} echoes when I talk; visitors hear echo on {dev}; {dev} talk is bad
1 Lower the {speaker volume|volume}.
2 Use {push to talk|push-to-talk}.
3 Improve {signal}.
4 {Update|firmware}.

== chime_hums wired forum
T Chime hums continuously
C stuck button; transformer overloaded
S my chime hums with {dev}; {dev} makes the chime buzz; chime buzzing constantly with {dev}
1 Turn off the doorbell {breaker|power}.
2 Check the {button} is not stuck.
3 Check the {chime power kit|power kit}.
4 Call an {electrician}.

== hot_transformer wired faq safety
T Doorbell transformer hot, buzzing loudly or smelling of burning
C transformer overloaded by the video doorbell and chime; a short in the doorbell wiring; a failing transformer
S the doorbell transformer for {dev} is hot; there's a burning smell from the transformer of {dev}; the transformer for {dev} buzzes loudly
1 {Switch off|turn off} the circuit that feeds the doorbell transformer at the breaker panel.
2 {Stop using|stop} the doorbell and leave the chime disconnected until it is checked.
3 Do not touch the transformer's mains side: have an {electrician} test it and fit a correctly rated 16-24 V AC, 30 VA unit.
4 {Contact support|support} if the doorbell itself is scorched or smells.
E heat, smell, melting
U bypass the breaker; keep it running; connect it straight to mains power; wrap the transformer in tape

== swollen_battery battery manual safety
T Doorbell battery swollen
C lithium cell swelling
S {dev} battery is bulging; the battery of {dev} won't fit; {dev} battery swollen
1 {Stop using|stop} the battery.
2 Do not {charge|charging} it.
3 Place it on a {non-flammable|fireproof} surface.
4 {Contact support|support}.
E any swelling
U puncture the battery; force it into the doorbell; keep charging it

== image_washed_out cam faq
T Image washed out in daylight
C sun glare; HDR off
S {dev} picture is too bright; {dev} washed out; {dev} glare
1 Turn on {HDR|wdr}.
2 Adjust the {angle}.
3 Use a {sun shade|shade}.
4 Clean the {lens}.

== shared_users_no_alerts cam faq
T Shared users get no alerts
C permissions
S my partner doesn't get alerts from {dev}; shared users of {dev} no alerts; {dev} notifications only on my phone
1 Check {shared user|shared} permissions.
2 Enable {notifications} on their phone.
3 Update the {app}.
4 Re-invite the {user}.

== late_notifications wired faq
T Doorbell alerts arrive late
C phone battery optimisation; slow network
S {dev} notifications come late; {dev} rings my phone after the person left; {dev} alerts delayed
1 Disable {battery optimization|battery saver}.
2 Improve Wi-Fi {signal}.
3 Enable {rich notifications|notifications}.
4 Update the {app}.

== camera_keeps_rebooting cam faq
T Camera keeps rebooting
C power adapter; PoE budget
S {dev} keeps restarting; {dev} reboots; {dev} goes off and on
1 Use the {original adapter|adapter}.
2 Check {PoE|poe} budget.
3 {Update|firmware}.
4 {Reset|factory reset}.
"""
