"""The texting resource: the patient's texting settings, sign-in links by text, and Twilio's callbacks."""
